"""Login lock-out (django-axes): five wrong passwords for one username from one address lock that
pair out for half an hour, even with the right password; other usernames and addresses are not
touched; a superuser can lift it early from the user admin, and that is audited."""

import datetime as dt

import pytest
from django.urls import reverse

from apps.accounts.models import User
from apps.audit.models import AuditEvent
from tests.accounts.conftest import PASSWORD, with_password

LOGIN = "/admin/login/"
COOL_OFF = dt.timedelta(minutes=30)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def fail(portal_login, username: str, times: int) -> None:
    for _ in range(times):
        assert portal_login(username, "wrong-password") is False


def assert_locked_out(response) -> None:
    assert response.status_code == 429
    assert "registration/locked_out.html" in [t.name for t in response.templates]
    page = response.content.decode()
    assert 'id="locked-out"' in page and 'name="password"' not in page


def test_it_still_lets_in_the_right_password_after_four_wrong_ones(staff, client, portal_login):
    fail(portal_login, "worker_a", 4)
    assert portal_login("worker_a", PASSWORD)
    assert logged_in(client)
    # A success clears the count (AXES_RESET_ON_SUCCESS): four more mistakes are again allowed.
    client.post(reverse("admin:logout"))
    fail(portal_login, "worker_a", 4)
    assert portal_login("worker_a", PASSWORD)


def test_it_locks_out_after_five_wrong_passwords_even_with_the_right_one(staff, client, portal_login):
    fail(portal_login, "worker_a", 4)
    fifth = client.post(LOGIN, {"username": "worker_a", "password": "wrong-password"})
    assert_locked_out(fifth)
    right = client.post(LOGIN, {"username": "worker_a", "password": PASSWORD})
    assert_locked_out(right)
    assert not logged_in(client)
    assert client.get("/admin/").status_code == 302


def test_the_lock_is_per_username_and_address(staff, client, portal_login):
    fail(portal_login, "worker_a", 5)
    # The same address, another username.
    assert portal_login("worker_b", PASSWORD)
    client.post(reverse("admin:logout"))
    # The same username, another address.
    other = client.post(LOGIN, {"username": "worker_a", "password": PASSWORD}, REMOTE_ADDR="10.1.2.3")
    assert other.status_code == 302 and logged_in(client)
    client.post(reverse("admin:logout"))
    # The locked pair itself is still locked.
    assert_locked_out(client.post(LOGIN, {"username": "worker_a", "password": PASSWORD}))


def test_the_right_password_works_once_the_cool_off_is_over(staff, client, portal_login, clock):
    fail(portal_login, "worker_a", 5)
    clock.shift(COOL_OFF + dt.timedelta(seconds=1))
    assert portal_login("worker_a", PASSWORD)
    assert logged_in(client)


def test_it_is_still_locked_a_second_before_the_cool_off_ends(staff, client, portal_login, clock):
    fail(portal_login, "worker_a", 5)
    clock.shift(COOL_OFF - dt.timedelta(seconds=1))
    assert_locked_out(client.post(LOGIN, {"username": "worker_a", "password": PASSWORD}))
    assert not logged_in(client)


def test_a_try_during_the_lock_out_starts_the_cool_off_again(staff, client, portal_login, clock):
    """django-axes' default (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT): whoever keeps trying
    stays locked out; the half hour counts from the last try."""
    fail(portal_login, "worker_a", 5)
    clock.shift(COOL_OFF - dt.timedelta(minutes=1))
    assert_locked_out(client.post(LOGIN, {"username": "worker_a", "password": PASSWORD}))
    clock.shift(dt.timedelta(minutes=2))
    assert_locked_out(client.post(LOGIN, {"username": "worker_a", "password": PASSWORD}))
    clock.shift(COOL_OFF + dt.timedelta(seconds=1))
    assert portal_login("worker_a", PASSWORD)


# --- lifting it early: the user admin's action -------------------------------------------------------

CHANGELIST = "/admin/accounts/user/"


def actions_offered(response) -> set[str]:
    form = response.context["action_form"]  # None when the page offers no action at all
    return {name for name, _label in form.fields["action"].choices if name} if form else set()


def test_a_superuser_lifts_the_lock_with_the_admin_action_and_it_is_audited(staff, client, portal_login):
    fail(portal_login, "worker_a", 5)
    root = User.objects.get(username="root")
    admin = type(client)()
    admin.force_login(root)
    assert "unlock_logins" in actions_offered(admin.get(CHANGELIST))
    worker = User.objects.get(username="worker_a")
    r = admin.post(CHANGELIST, {"action": "unlock_logins", "_selected_action": [worker.pk]})
    assert r.status_code == 302

    assert portal_login("worker_a", PASSWORD)
    event = AuditEvent.objects.get(kind="login.unlocked")
    assert event.actor == root and event.origin == "admin"
    assert event.detail == {"users": ["worker_a"]}


@pytest.fixture
def user_manager(staff):
    """A staff user allowed to see and change staff users, but no superuser."""
    from django.contrib.auth.models import Permission

    manager = User.objects.create_user("manager", is_staff=True)
    manager.user_permissions.set(Permission.objects.filter(codename__in=["view_user", "change_user"]))
    return with_password("manager")


def test_a_user_manager_who_is_no_superuser_gets_no_security_actions(user_manager, client, portal_login):
    fail(portal_login, "worker_a", 5)
    manager = type(client)()
    manager.force_login(user_manager)
    page = manager.get(CHANGELIST)
    assert page.status_code == 200
    offered = actions_offered(page)
    assert "unlock_logins" not in offered and "reset_second_factor" not in offered

    worker = User.objects.get(username="worker_a")
    manager.post(CHANGELIST, {"action": "unlock_logins", "_selected_action": [worker.pk]})
    assert not AuditEvent.objects.filter(kind="login.unlocked").exists()
    assert_locked_out(client.post(LOGIN, {"username": "worker_a", "password": PASSWORD}))


def test_behind_the_proxy_the_lock_is_per_real_client_and_forged_addresses_do_not_dodge_it(staff, client, settings):
    """Every request comes from the TLS proxy's address; the client is the address the proxy
    appended to X-Forwarded-For. One client's failures lock that client only, and writing other
    addresses into the header itself changes nothing."""
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.1"}

    def attempt(password: str, forwarded: str):
        return client.post(
            LOGIN, {"username": "worker_a", "password": password}, HTTP_X_FORWARDED_FOR=forwarded, **proxy
        )

    for i in range(4):
        attempt("wrong-password", f"198.51.100.{i}, 203.0.113.9")  # forged left entries vary
    assert_locked_out(attempt("wrong-password", "203.0.113.9"))
    assert_locked_out(attempt(PASSWORD, "7.7.7.7, 203.0.113.9"))
    # Another client behind the same proxy logs in as the same user.
    assert attempt(PASSWORD, "203.0.113.20").status_code == 302
