"""API tokens: they expire (API_TOKEN_DAYS for staff, PARTNER_TOKEN_DAYS for partners), a caller
rotates the token it calls with (the old one lives on for API_TOKEN_ROTATION_GRACE_HOURS, or dies
at once) or revokes it, an operator does the same with `rotate_token` and `revoke_tokens`; the
audit names tokens by prefix only. A partner's token reaches its scopes only, and nothing once the
partner or the user is deactivated."""

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from apps.accounts.models import ApiToken, PartnerSystem, User
from apps.accounts.services import token_digest
from apps.audit.models import AuditEvent
from tests.accounts.conftest import T0
from tests.api.helpers import client, last_line

PING = "/api/v1/ping/"
CURRENT = "/api/v1/tokens/current/"
ROTATE = "/api/v1/tokens/current/rotate/"
REVOKE = "/api/v1/tokens/current/revoke/"
MINUTE = dt.timedelta(minutes=1)
GRACE = dt.timedelta(hours=24)


def works(token: str) -> bool:
    status = client(token).get(PING).status_code
    assert status in (200, 401), status
    return status == 200


def token_of(api_client) -> str:
    return api_client._credentials["HTTP_AUTHORIZATION"].removeprefix("Token ")


# --- expiry -------------------------------------------------------------------------------------------


@override_settings(API_TOKEN_DAYS=90)
def test_a_staff_token_works_until_its_ninetieth_day(world, clock):
    token = last_line("create_staff", "worker_c", "--role", "community_worker", "--org", "CA")
    assert ApiToken.objects.get(digest=token_digest(token)).expires_at == T0 + dt.timedelta(days=90)
    clock.move_to(T0 + dt.timedelta(days=90) - MINUTE)
    assert works(token)
    clock.move_to(T0 + dt.timedelta(days=90) + MINUTE)
    assert not works(token)


@override_settings(API_TOKEN_DAYS=90, PARTNER_TOKEN_DAYS=365)
def test_a_partner_token_works_until_its_365th_day(world, clock):
    token = last_line("create_partner", "lab-x", "--scopes", "feeds")
    clock.move_to(T0 + dt.timedelta(days=365) - MINUTE)
    assert works(token)
    clock.move_to(T0 + dt.timedelta(days=365) + MINUTE)
    assert not works(token)


def test_tokens_never_expire_when_the_days_are_zero(world, clock):
    token = last_line("create_staff", "worker_c", "--role", "community_worker", "--org", "CA")
    assert ApiToken.objects.get(digest=token_digest(token)).expires_at is None
    clock.move_to(T0 + dt.timedelta(days=3650))
    assert works(token)


# --- the caller's own token: see, rotate, revoke ---------------------------------------------------------


def test_a_caller_sees_its_token_by_prefix(world, clock):
    r = world.gate.get(CURRENT)
    assert r.status_code == 200
    body = r.json()
    token = token_of(world.gate)
    assert body["prefix"] == token[:8] and body["user"] == "partner:gateway"
    assert body["role"] == "partner" and body["scopes"] == ["status"] and body["expires_at"] is None
    assert token not in r.content.decode()


def test_rotating_gives_a_new_token_and_keeps_the_old_one_through_the_grace_period(world, clock):
    old = token_of(world.gate)
    r = world.gate.post(ROTATE, {}, format="json")
    assert r.status_code == 201
    new = r.json()["token"]
    assert new != old and works(new)
    assert dt.datetime.fromisoformat(r.json()["old_token_valid_until"]) == T0 + GRACE

    clock.move_to(T0 + GRACE - MINUTE)
    assert works(old) and works(new)
    clock.move_to(T0 + GRACE + MINUTE)
    assert not works(old)
    assert works(new)


def test_rotating_immediately_ends_the_old_token_at_once(world, clock):
    old = token_of(world.gate)
    r = world.gate.post(ROTATE, {"immediately": True}, format="json")
    assert r.status_code == 201
    assert dt.datetime.fromisoformat(r.json()["old_token_valid_until"]) == T0
    assert not works(old)
    assert works(r.json()["token"])


@override_settings(PARTNER_TOKEN_DAYS=365)
def test_a_rotated_token_gets_a_lifetime_of_its_own(world, clock):
    clock.move_to(T0 + dt.timedelta(days=10))
    new = world.gate.post(ROTATE, {}, format="json").json()["token"]
    assert ApiToken.objects.get(digest=token_digest(new)).expires_at == T0 + dt.timedelta(days=375)


def test_revoking_ends_the_token_right_away(world, clock):
    token = token_of(world.feeds)
    r = world.feeds.post(REVOKE)
    assert r.status_code == 204
    assert not works(token)
    assert world.feeds.get(CURRENT).status_code == 401


@pytest.mark.parametrize("url", [CURRENT, ROTATE, REVOKE])
def test_a_browser_session_has_no_token_to_see_rotate_or_revoke(world, clock, url):
    from django.test import Client

    session = Client()
    session.force_login(User.objects.get(username="hotel_1"))
    r = session.get(url) if url == CURRENT else session.post(url, {}, content_type="application/json")
    assert r.status_code == 403 and "detail" in r.json()
    assert ApiToken.objects.filter(user__username="hotel_1").count() == 1
    assert works(token_of(world.hotel))


# --- the commands -----------------------------------------------------------------------------------------


def test_rotate_token_prints_the_new_token_last_and_keeps_the_old_through_the_grace(world, clock):
    old = token_of(world.wa)
    new = last_line("rotate_token", "worker_a")
    assert ApiToken.objects.get(digest=token_digest(new)).user.username == "worker_a"
    assert works(new) and works(old)
    clock.move_to(T0 + GRACE + MINUTE)
    assert not works(old) and works(new)


def test_rotate_token_immediately_ends_the_old_ones_now(world, clock):
    old = token_of(world.gate)
    new = last_line("rotate_token", "partner:gateway", "--immediately")
    assert not works(old) and works(new)


def test_revoke_tokens_ends_every_token_of_the_user(world, clock):
    old = token_of(world.wa)
    during_rotation = last_line("rotate_token", "worker_a")
    assert last_line("revoke_tokens", "worker_a") == "2"
    assert not works(old) and not works(during_rotation)
    assert works(token_of(world.wb))


@pytest.mark.parametrize("command", ["rotate_token", "revoke_tokens"])
def test_the_commands_name_an_unknown_username(world, command):
    with pytest.raises(CommandError, match="nobody_here"):
        call_command(command, "nobody_here", stdout=io.StringIO())


# --- the audit: prefixes only -----------------------------------------------------------------------------


def secrets_of(*tokens: str) -> list[str]:
    return [s for t in tokens for s in (t, token_digest(t))]


def test_rotation_and_revocation_are_audited_by_prefix_only(world, clock):
    old = token_of(world.gate)
    new = world.gate.post(ROTATE, {}, format="json").json()["token"]
    by_command = last_line("rotate_token", "partner:gateway")
    client(new).post(REVOKE)

    rotated = list(AuditEvent.objects.filter(kind="api_token.rotated").order_by("pk"))
    # The command retires both tokens still usable: the old one (in its grace period) and the new.
    assert [sorted(e.detail["old"]) for e in rotated] == [[old[:8]], sorted([old[:8], new[:8]])]
    assert [e.detail["new"] for e in rotated] == [new[:8], by_command[:8]]
    assert rotated[0].actor.username == "partner:gateway"
    revoked = AuditEvent.objects.get(kind="api_token.revoked")
    assert revoked.detail == {"tokens": [{"prefix": new[:8], "user": "partner:gateway"}]}

    last_line("revoke_tokens", "partner:gateway")
    events = AuditEvent.objects.filter(kind__startswith="api_token.")
    assert events.exclude(kind="api_token.issued").count() == 4
    stored = json.dumps([[e.detail, e.reason] for e in events])
    for secret in secrets_of(old, new, by_command):
        assert secret not in stored


# --- who a token lets in ---------------------------------------------------------------------------------


def test_a_partner_token_reaches_its_scopes_only(world, clock):
    r = world.gate.post("/api/v1/feeds/stays/", {"records": []}, format="json")
    assert r.status_code == 403
    assert world.feeds.post("/api/v1/feeds/stays/", {"records": []}, format="json").status_code == 200


def test_the_token_of_an_inactive_partner_gets_403(world, clock):
    partner = PartnerSystem.objects.get(name="feeds-partner")
    partner.is_active = False
    partner.save(update_fields=["is_active"])
    assert world.feeds.post("/api/v1/feeds/stays/", {"records": []}, format="json").status_code == 403
    # Nor may it keep its token alive by rotating it.
    assert world.feeds.post(ROTATE, {}, format="json").status_code == 403
    assert ApiToken.objects.filter(user=partner.user).count() == 1
    # It may still revoke the token it holds.
    assert world.feeds.post(REVOKE).status_code == 204
    assert not works(token_of(world.feeds))


def test_the_token_of_a_deactivated_user_gets_401(world, clock):
    user = User.objects.get(username="worker_a")
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert world.wa.get("/api/v1/work-queue/").status_code == 401
    assert not works(token_of(world.wa))


def test_a_token_already_replaced_cannot_rotate_again(world):
    """A leaked token used during its grace period cannot mint a fresh long-lived one."""
    from apps.accounts.models import ApiToken
    from apps.accounts.services import token_digest

    old = last_line("create_partner", "rail", "--scopes", "status")
    r = client(old).post("/api/v1/tokens/current/rotate/", {}, format="json")
    assert r.status_code == 201
    new = r.json()["token"]
    assert client(old).get("/api/v1/tokens/current/").status_code == 200, "still inside its grace period"
    again = client(old).post("/api/v1/tokens/current/rotate/", {}, format="json")
    assert again.status_code == 403
    assert ApiToken.objects.filter(user__username="partner:rail", revoked_at__isnull=True).count() == 2
    assert ApiToken.objects.get(digest=token_digest(old)).replaced_at is not None
    # The successor rotates normally.
    assert client(new).post("/api/v1/tokens/current/rotate/", {}, format="json").status_code == 201


def test_issuing_a_token_is_audited_with_its_prefix_only(world):
    from apps.audit.models import AuditEvent

    token = last_line("create_partner", "air", "--scopes", "status")
    event = AuditEvent.objects.filter(kind="api_token.issued", detail__user="partner:air").get()
    assert event.detail["prefix"] == token[:8] and token not in str(event.detail)
