"""The second factor (TOTP, django-otp) with STAFF_OTP_REQUIRED: staff whose role sees unmasked
personal data (community workers, CDC officers) and superusers are held after the password until
they enrol an authenticator and then, at every login, enter its code; the roles that see masked
data only are not held; a held browser session gets a JSON 403 from the API, and so does a token
of such a user until they have enrolled (a token is no way around the second factor); an
administrator can reset a lost phone, audited."""

import datetime as dt
from urllib.parse import urlencode

import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.models import User
from apps.audit.models import AuditEvent
from tests.accounts.conftest import PASSWORD

SETUP = "/admin/second-factor/"
VERIFY = "/admin/second-factor/verify/"
QUEUE = "/admin/casework/queue/"
STEP = dt.timedelta(seconds=30)  # one TOTP step: a new code, and past any throttling delay


@pytest.fixture(autouse=True)
def _second_factor_required(settings):
    settings.STAFF_OTP_REQUIRED = True


def code(device: TOTPDevice) -> str:
    """The code the authenticator app shows now."""
    device.refresh_from_db()
    return f"{TOTP(device.bin_key, step=device.step, t0=device.t0, digits=device.digits).token():06d}"


def wrong(device: TOTPDevice) -> str:
    return f"{(int(code(device)) + 1) % 1_000_000:06d}"


def log_in(username: str) -> Client:
    c = Client()
    assert c.post("/admin/login/", {"username": username, "password": PASSWORD}).status_code == 302
    return c


def pending_device(c: Client, username: str) -> TOTPDevice:
    assert c.get(SETUP).status_code == 200
    return TOTPDevice.objects.get(user__username=username, confirmed=False)


def enrolled(username: str, clock) -> tuple[Client, TOTPDevice]:
    """A session of `username` that has enrolled an authenticator (and so is verified); the clock
    is then moved one step on, so the next code is a fresh one."""
    c = log_in(username)
    device = pending_device(c, username)
    assert c.post(SETUP, {"otp_token": code(device), "next": "/admin/"}).status_code == 302
    clock.shift(STEP)
    return c, device


def redirected_to(response, url: str, next_url: str) -> bool:
    return response.status_code == 302 and response.url == f"{url}?{urlencode({'next': next_url})}"


# --- held: community workers, CDC officers, superusers -----------------------------------------------


def test_a_community_worker_is_sent_from_the_index_and_the_queue_to_set_up(staff, client, portal_login):
    assert portal_login("worker_a", PASSWORD)
    assert redirected_to(client.get("/admin/"), SETUP, "/admin/")
    assert redirected_to(client.get(QUEUE), SETUP, QUEUE)
    assert redirected_to(client.get("/admin/people/person/"), SETUP, "/admin/people/person/")


@pytest.mark.parametrize("username", ["cdc_1", "root"])
def test_cdc_officers_and_superusers_are_held_too(staff, client, portal_login, username):
    assert portal_login(username, PASSWORD)
    assert redirected_to(client.get("/admin/"), SETUP, "/admin/")


def test_the_setup_page_shows_a_qr_code_and_the_secret(staff, client, portal_login):
    from base64 import b32encode

    assert portal_login("worker_a", PASSWORD)
    r = client.get(SETUP)
    assert r.status_code == 200
    assert "no-store" in r["Cache-Control"]
    page = r.content.decode()
    assert '<div class="portal-panel portal-qr" id="second-factor-qr"><svg' in page
    device = TOTPDevice.objects.get(user__username="worker_a")
    assert not device.confirmed
    secret = b32encode(device.bin_key).decode().rstrip("=")
    shown = page.split('id="second-factor-secret">')[1].split("<")[0]
    assert shown.replace(" ", "") == secret
    # Showing the page again shows the same pending secret, not a new device each time.
    assert client.get(SETUP).status_code == 200
    assert TOTPDevice.objects.filter(user__username="worker_a").count() == 1


def test_a_wrong_code_is_refused_with_a_field_error(staff, client, portal_login):
    assert portal_login("worker_a", PASSWORD)
    device = pending_device(client, "worker_a")
    r = client.post(SETUP, {"otp_token": wrong(device), "next": "/admin/"})
    assert r.status_code == 200
    assert list(r.context["form"].errors) == ["otp_token"]
    assert 'id="errors-otp_token"' in r.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert redirected_to(client.get("/admin/"), SETUP, "/admin/")


def test_a_code_that_is_not_six_digits_is_refused(staff, client, portal_login):
    assert portal_login("worker_a", PASSWORD)
    pending_device(client, "worker_a")
    r = client.post(SETUP, {"otp_token": "12ab56"})
    assert r.status_code == 200 and list(r.context["form"].errors) == ["otp_token"]


def test_the_right_code_confirms_the_device_verifies_the_session_and_opens_the_admin(staff, client, portal_login):
    assert portal_login("worker_a", PASSWORD)
    device = pending_device(client, "worker_a")
    r = client.post(SETUP, {"otp_token": code(device), "next": QUEUE})
    assert r.status_code == 302 and r.url == QUEUE
    device.refresh_from_db()
    assert device.confirmed
    assert client.session["otp_device_id"] == device.persistent_id
    assert client.get("/admin/").status_code == 200
    assert client.get(QUEUE).status_code == 200
    event = AuditEvent.objects.get(kind="second_factor.enrolled")
    assert event.actor.username == "worker_a"


def test_setup_refuses_a_next_url_on_another_site(staff, client, portal_login):
    assert portal_login("worker_a", PASSWORD)
    device = pending_device(client, "worker_a")
    r = client.post(SETUP, {"otp_token": code(device), "next": "https://evil.example/"})
    assert r.status_code == 302 and r.url == "/admin/"


def test_the_next_login_asks_for_the_code_not_for_setup(staff, clock):
    first, device = enrolled("worker_a", clock)
    first.post("/admin/logout/")

    c = log_in("worker_a")
    assert redirected_to(c.get("/admin/"), VERIFY, "/admin/")
    r = c.post(VERIFY, {"otp_token": wrong(device), "next": "/admin/"})
    assert r.status_code == 200 and list(r.context["form"].errors) == ["otp_token"]
    assert redirected_to(c.get("/admin/"), VERIFY, "/admin/")

    clock.shift(STEP)  # past the throttling delay a wrong code earns
    r = c.post(VERIFY, {"otp_token": code(device), "next": "/admin/"})
    assert r.status_code == 302 and r.url == "/admin/"
    assert c.get("/admin/").status_code == 200


def test_a_held_session_with_a_device_cannot_enrol_a_new_one(staff, clock):
    """Replacing the authenticator needs the old one first (or an administrator's reset)."""
    first, _device = enrolled("worker_a", clock)
    first.post("/admin/logout/")
    c = log_in("worker_a")
    r = c.get(SETUP)
    assert r.status_code == 302 and r.url == VERIFY
    assert TOTPDevice.objects.filter(user__username="worker_a").count() == 1


def test_a_code_cannot_be_used_twice(staff, clock):
    first, device = enrolled("worker_a", clock)
    first.post("/admin/logout/")
    used = code(device)
    c = log_in("worker_a")
    assert c.post(VERIFY, {"otp_token": used}).status_code == 302
    c.post("/admin/logout/")

    # The same code again, in its own 30 seconds, from another login: refused.
    clock.shift(dt.timedelta(seconds=1))
    again = log_in("worker_a")
    r = again.post(VERIFY, {"otp_token": used})
    assert r.status_code == 200 and list(r.context["form"].errors) == ["otp_token"]
    assert redirected_to(again.get("/admin/"), VERIFY, "/admin/")


def test_the_code_of_enrolment_cannot_be_replayed_at_the_next_login(staff, client, portal_login):
    assert portal_login("worker_a", PASSWORD)
    device = pending_device(client, "worker_a")
    used = code(device)
    assert client.post(SETUP, {"otp_token": used}).status_code == 302
    client.post("/admin/logout/")
    c = log_in("worker_a")
    r = c.post(VERIFY, {"otp_token": used})
    assert r.status_code == 200 and r.context["form"].errors


def test_a_held_session_may_still_log_out(staff, client, portal_login):
    assert portal_login("worker_a", PASSWORD)
    r = client.post("/admin/logout/")
    assert r.status_code == 200 and "_auth_user_id" not in client.session


# --- not held: the roles that see masked data only ----------------------------------------------------


@pytest.mark.parametrize("username", ["op_1", "hotel_1", "auditor_1", "policy_1"])
def test_roles_that_see_masked_data_only_are_not_held(staff, client, portal_login, username):
    assert portal_login(username, PASSWORD)
    assert client.get("/admin/").status_code == 200
    assert not TOTPDevice.objects.exists()


@pytest.mark.parametrize("username", ["worker_a", "cdc_1", "root"])
def test_nobody_is_held_when_the_second_factor_is_not_required(staff, client, portal_login, settings, username):
    settings.STAFF_OTP_REQUIRED = False
    assert portal_login(username, PASSWORD)
    assert client.get("/admin/").status_code == 200


# --- the API: a held session is refused, a token is not ----------------------------------------------


def test_a_held_session_gets_a_json_403_from_the_api_and_the_enrolled_users_token_works(staff, client, clock):
    c = log_in("worker_a")
    r = c.get("/api/v1/work-queue/")
    assert r.status_code == 403
    assert r["Content-Type"] == "application/json"
    assert "detail" in r.json()
    # Enrolled (in another browser): the token works, while this session is still held.
    enrolled("worker_a", clock)
    assert staff.wa.get("/api/v1/work-queue/").status_code == 200
    assert c.get("/api/v1/work-queue/").status_code == 403


# --- tokens: no way around the second factor ----------------------------------------------------------


@pytest.mark.parametrize(("username", "who"), [("worker_a", "wa"), ("cdc_1", "cdc")])
def test_a_staff_token_is_refused_until_its_user_has_enrolled_the_second_factor(staff, clock, username, who):
    token = getattr(staff, who)
    r = token.get("/api/v1/work-queue/")
    assert r.status_code == 403
    assert r["Content-Type"] == "application/json"
    assert "second factor" in r.json()["detail"] or "第二重验证" in r.json()["detail"]
    # Nor can the token renew itself meanwhile.
    assert token.post("/api/v1/tokens/current/rotate/").status_code == 403
    enrolled(username, clock)
    assert token.get("/api/v1/work-queue/").status_code == 200


def test_a_device_set_up_but_never_confirmed_does_not_open_the_token(staff, client, portal_login):
    assert portal_login("worker_a", PASSWORD)
    pending_device(client, "worker_a")
    assert staff.wa.get("/api/v1/work-queue/").status_code == 403


def test_a_reset_second_factor_closes_the_token_again(staff, clock):
    enrolled("worker_a", clock)
    assert staff.wa.get("/api/v1/work-queue/").status_code == 200
    TOTPDevice.objects.filter(user__username="worker_a").delete()
    assert staff.wa.get("/api/v1/work-queue/").status_code == 403


def test_tokens_of_roles_without_the_second_factor_and_of_partners_need_no_device(staff):
    assert not TOTPDevice.objects.exists()
    assert staff.hotel.get("/api/v1/hotel-stays/").status_code == 200
    assert staff.policy.get("/api/v1/policy/").status_code == 200
    assert staff.feeds.post("/api/v1/feeds/stays/", {"records": []}, format="json").status_code == 200


def test_staff_tokens_need_no_device_when_the_second_factor_is_not_required(staff, settings):
    settings.STAFF_OTP_REQUIRED = False
    assert staff.wa.get("/api/v1/work-queue/").status_code == 200
    assert staff.cdc.get("/api/v1/work-queue/").status_code == 200


def test_a_held_session_cannot_slip_past_with_an_authorization_header_that_is_no_token(staff, client, portal_login):
    """Only `Authorization: Token …` is a token request (DRF authenticates it or answers 401); any
    other header would fall through to the session, which has not passed the second factor."""
    assert portal_login("worker_a", PASSWORD)
    for header in ("Bearer abc", "Basic d29ya2VyX2E6eA==", "x"):
        r = client.get("/api/v1/work-queue/", HTTP_AUTHORIZATION=header)
        assert r.status_code == 403, header
    assert client.get("/api/v1/work-queue/", HTTP_AUTHORIZATION="Token not-a-token").status_code == 401


def test_a_verified_session_may_call_the_api(staff, clock):
    c, _device = enrolled("worker_a", clock)
    assert c.get("/api/v1/work-queue/").status_code == 200


# --- a lost phone: the administrator's reset -----------------------------------------------------


def test_a_superuser_resets_a_lost_phone_and_it_is_audited(staff, clock):
    worker, _device = enrolled("worker_a", clock)
    worker.post("/admin/logout/")
    root, _root_device = enrolled("root", clock)
    user = User.objects.get(username="worker_a")
    r = root.post("/admin/accounts/user/", {"action": "reset_second_factor", "_selected_action": [user.pk]})
    assert r.status_code == 302

    assert not TOTPDevice.objects.filter(user=user).exists()
    assert TOTPDevice.objects.filter(user__username="root").count() == 1
    event = AuditEvent.objects.get(kind="second_factor.reset")
    assert event.actor.username == "root" and event.detail == {"user": "worker_a"}
    # The worker enrols anew at the next login.
    again = log_in("worker_a")
    assert redirected_to(again.get("/admin/"), SETUP, "/admin/")
