"""The per-process token cache (apps.accounts.authentication, API_TOKEN_CACHE_SECONDS): a token
is read at most once a bound per process, and whatever ends it (revocation, its user or partner
deactivated) takes effect by the end of that bound; its expiry takes effect exactly."""

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts import authentication
from apps.accounts.models import ApiToken, PartnerSystem
from apps.accounts.services import token_digest
from apps.core.clock import now
from tests.accounts.conftest import T0
from tests.api.helpers import client, rid

PING = "/api/v1/ping/"
BOUND = 1.0


@pytest.fixture
def cached(settings):
    settings.API_TOKEN_CACHE_SECONDS = BOUND
    authentication.token_cache_clear()
    yield
    authentication.token_cache_clear()


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def status_of(token: str) -> int:
    return client(token).get(PING).status_code


def test_a_revoked_token_works_until_the_bound_and_fails_after_it(world, cached, clock):
    token = world.personas.token("gateway")
    assert status_of(token) == 200
    ApiToken.objects.filter(digest=token_digest(token)).update(revoked_at=now())
    clock.move_to(T0 + dt.timedelta(seconds=BOUND - 0.01))
    assert status_of(token) == 200  # read at T0: still cached
    clock.move_to(T0 + dt.timedelta(seconds=BOUND))
    assert status_of(token) == 401
    clock.move_to(T0 + dt.timedelta(seconds=BOUND + 5))
    assert status_of(token) == 401  # a refused token is never cached


def test_a_cached_token_is_read_once_a_bound(world, cached, clock):
    token = world.personas.token("gateway")
    assert status_of(token) == 200
    with CaptureQueriesContext(connection) as queries:
        assert status_of(token) == 200
    assert not any("accounts_apitoken" in q["sql"] for q in queries.captured_queries)
    clock.move_to(T0 + dt.timedelta(seconds=BOUND))
    with CaptureQueriesContext(connection) as queries:
        assert status_of(token) == 200
    assert sum("accounts_apitoken" in q["sql"] for q in queries.captured_queries) == 1


def test_a_deactivated_partner_loses_its_scopes_within_the_bound(world, cached, clock):
    token = world.personas.token("gateway")
    lookup = f"/api/v1/status/?id_type=resident_id&id_number={rid('11010519900101123')}"
    assert client(token).get(lookup).status_code == 404  # no such person, but the scope held
    PartnerSystem.objects.filter(user__username=world.personas.user("gateway").username).update(is_active=False)
    assert client(token).get(lookup).status_code == 404  # within the bound
    clock.move_to(T0 + dt.timedelta(seconds=BOUND))
    assert client(token).get(lookup).status_code == 403


def test_an_expiring_token_fails_at_its_expiry_even_when_cached(world, cached, clock):
    token = world.personas.token("gateway")
    ApiToken.objects.filter(digest=token_digest(token)).update(expires_at=T0 + dt.timedelta(seconds=0.5))
    assert status_of(token) == 200
    clock.move_to(T0 + dt.timedelta(seconds=0.5))
    assert status_of(token) == 401


def test_without_a_bound_every_request_reads_the_token(world, settings, clock):
    settings.API_TOKEN_CACHE_SECONDS = 0
    token = world.personas.token("gateway")
    assert status_of(token) == 200
    ApiToken.objects.filter(digest=token_digest(token)).update(revoked_at=now())
    assert status_of(token) == 401


def test_the_one_statement_reads_the_token_its_user_organisation_and_partner(world, django_assert_num_queries):
    token = authentication.token_usable(token_digest(world.personas.token("gateway")), now())
    staff = authentication.token_usable(token_digest(world.personas.token("worker_a")), now())
    with django_assert_num_queries(0):
        assert token.user.username == world.personas.user("gateway").username
        assert token.user.partner.is_active and "status" in token.user.partner.scopes
        assert token.user.partner.user is token.user
        assert staff.user.organisation.code == "CA"
    assert authentication.token_usable(token_digest("no-such-token"), now()) is None
    ApiToken.objects.filter(pk=token.pk).update(expires_at=now())
    assert authentication.token_usable(token_digest(world.personas.token("gateway")), now()) is None
