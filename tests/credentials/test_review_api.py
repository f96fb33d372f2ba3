"""A security tester's review of the credentials API (issue 16): the verify endpoint is throttled
like every API call, the keys document carries no private material of configured keys, and the
verifier's new refusals (a claimed issue time ahead of the clock, a validity over a day) hold
online as offline, for the portal's own key."""

import datetime as dt

import pytest
import time_machine
from django.conf import settings as django_settings

from apps.credentials import verifier as v
from apps.credentials.signing import key_generate, signing_keys
from config.settings import base

from .helpers import sign

T0 = dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def verify_online(api, text):
    return api.post("/api/v1/credentials/verify/", {"credential": text}, format="json")


def test_the_verify_endpoint_is_throttled_per_partner(world, settings, clock):
    settings.API_THROTTLE_RATES = {**{name: "100000/m" for name in base.API_THROTTLE_RATES}, "restrictions": "3/m"}
    rail = world.personas.client("rail")
    assert [verify_online(rail, "HK1:").status_code for _ in range(3)] == [200] * 3
    over = verify_online(rail, "HK1:")
    assert over.status_code == 429 and 1 <= int(over["Retry-After"]) <= 60
    clock.shift(dt.timedelta(seconds=60))
    assert verify_online(rail, "HK1:").status_code == 200


def test_the_keys_document_of_configured_keys_has_no_private_material(world, client, settings, clock):
    current = key_generate(kid="hk-a", valid_from=T0 - dt.timedelta(days=10))
    ahead = key_generate(kid="hk-b", alg="EdDSA", valid_from=T0 + dt.timedelta(days=1))
    settings.CREDENTIAL_SIGNING_KEYS = [current, ahead]
    body = client.get("/api/v1/keys/").content.decode()
    assert "PRIVATE" not in body
    for entry in (current, ahead):
        secret = "".join(entry["private_key"].splitlines()[1:-1])
        assert secret[:40] not in body.replace("\\n", "")
        assert entry["kid"] in body


def _own_key():
    return signing_keys(django_settings.CREDENTIAL_SIGNING_KEYS)[0]


def test_a_future_dated_credential_of_our_own_key_is_not_yet_valid_online(world, clock):
    ahead = sign(_own_key(), iss="110000", iat=T0 + dt.timedelta(hours=1), exp=T0 + dt.timedelta(hours=9))
    r = verify_online(world.gate, ahead)
    assert r.status_code == 200
    body = r.json()
    assert body["valid"] is False and body["reason"] == v.Reason.NOT_YET_VALID and body["superseded"] is None
    # Five minutes ahead is two clocks disagreeing, not a forgery.
    close = sign(_own_key(), iss="110000", iat=T0 + v.MAX_CLOCK_SKEW, exp=T0 + dt.timedelta(hours=9))
    assert verify_online(world.gate, close).json()["valid"] is True


def test_a_month_long_credential_of_our_own_key_is_refused_online(world, clock):
    month = sign(_own_key(), iss="110000", iat=T0, exp=T0 + dt.timedelta(days=30))
    body = verify_online(world.gate, month).json()
    assert body["valid"] is False and body["reason"] == v.Reason.MALFORMED and body["state"] is None
