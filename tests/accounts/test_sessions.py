"""Staff sessions: a session left alone for SESSION_IDLE_SECONDS (30 minutes) is logged out and
sent back to the login page (the API answers 401); the cookie is HttpOnly, SameSite=Lax, ends
with the browser, and a session lasts one working shift (8 hours) at most."""

import datetime as dt
from urllib.parse import urlencode

import pytest
from django.conf import settings as django_settings
from django.contrib.messages import get_messages
from django.test import override_settings

from tests.accounts.conftest import PASSWORD

pytestmark = pytest.mark.usefixtures("staff")

PERSONS = "/admin/people/person/"


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def idle_expiry():
    """The suite's settings turn idle expiry off (config/settings/test.py); these tests turn it on,
    from the login on (fixtures included: a decorator would only cover the test's body)."""
    with override_settings(SESSION_IDLE_SECONDS=1800):
        yield


@pytest.fixture
def session(idle_expiry, client, portal_login):
    """hotel_1 logged in through the login form, having opened one page."""
    assert portal_login("hotel_1", PASSWORD)
    assert client.get("/admin/").status_code == 200
    return client


def test_a_session_idle_for_29_minutes_still_works(session, clock):
    clock.shift(dt.timedelta(minutes=29))
    assert session.get(PERSONS).status_code == 200
    # That page counted as activity: another 29 minutes later it still works.
    clock.shift(dt.timedelta(minutes=29))
    assert session.get(PERSONS).status_code == 200
    assert logged_in(session)


def test_a_session_idle_for_31_minutes_is_logged_out_and_sent_to_the_login_page(session, clock):
    clock.shift(dt.timedelta(minutes=31))
    r = session.get(PERSONS)
    assert r.status_code == 302 and r.url == f"/admin/login/?{urlencode({'next': PERSONS})}"
    assert len(list(get_messages(r.wsgi_request))) == 1
    assert not logged_in(session)
    # The old session is gone for good: the next page asks for the login again.
    assert session.get("/admin/").status_code == 302


def test_the_api_answers_401_to_a_session_left_idle(session, clock):
    assert session.get("/api/v1/ping/").status_code == 200
    clock.shift(dt.timedelta(minutes=31))
    r = session.get("/api/v1/ping/")
    assert r.status_code == 401 and "detail" in r.json()
    assert not logged_in(session)


def test_the_idle_time_counts_from_the_login_itself(idle_expiry, client, portal_login, clock):
    """Logging in and walking away before opening any page is idleness too."""
    assert portal_login("hotel_1", PASSWORD)
    clock.shift(dt.timedelta(minutes=31))
    r = client.get(PERSONS)
    assert r.status_code == 302 and r.url.startswith("/admin/login/")
    assert not logged_in(client)


def test_a_token_request_gets_no_session(idle_expiry, staff, clock):
    r = staff.hotel.get("/api/v1/ping/")
    assert r.status_code == 200
    assert django_settings.SESSION_COOKIE_NAME not in r.cookies


def test_the_session_cookie_is_httponly_lax_and_ends_with_the_browser(client, portal_login):
    assert portal_login("hotel_1", PASSWORD)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    assert cookie.value
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["expires"] == "" and cookie["max-age"] == ""


def test_a_busy_session_still_ends_after_one_shift(idle_expiry, clock, client, portal_login):
    """Each page pushes Django's own expiry on; the shift's end does not move."""
    assert portal_login("hotel_1", PASSWORD)
    shift = dt.timedelta(seconds=django_settings.SESSION_COOKIE_AGE)
    worked = dt.timedelta()
    while worked + dt.timedelta(minutes=20) < shift - dt.timedelta(minutes=1):
        clock.shift(dt.timedelta(minutes=20))
        worked += dt.timedelta(minutes=20)
        assert client.get(PERSONS).status_code == 200
    clock.shift(shift - dt.timedelta(minutes=1) - worked)  # a minute before the shift ends
    assert client.get(PERSONS).status_code == 200
    clock.shift(dt.timedelta(minutes=2))  # a minute after
    r = client.get(PERSONS)
    assert r.status_code == 302 and r.url.startswith("/admin/login/")
    assert not logged_in(client)


def test_a_session_lasts_one_shift_at_most(client, portal_login):
    assert 0 < django_settings.SESSION_COOKIE_AGE <= 8 * 3600
    assert django_settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert portal_login("hotel_1", PASSWORD)
    assert client.session.get_expiry_age() <= 8 * 3600
