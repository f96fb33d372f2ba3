"""Staff who are not superusers log into the admin and open the screens of their role (SPEC §7):
community workers land on their queue, the index links to it for the roles that have one,
releases are never edited or deleted, and the audit is read-only for auditors."""

import pytest
from django.urls import reverse

from apps.audit.models import AccessLog, AuditEvent
from apps.status.models import Release
from tests.api.helpers import last_line
from tests.casework_admin.conftest import CHECKED, REASON, admin_client

PASSWORD = "correct-horse-battery-9"
QUEUE = "/admin/casework/queue/"


def log_in(client, username, **extra):
    last_line(
        "create_staff", username, "--role", ROLES[username][0], "--org", ROLES[username][1], "--password", PASSWORD
    )
    return client.post(reverse("admin:login"), {"username": username, "password": PASSWORD, **extra})


ROLES = {
    "worker_a": ("community_worker", "CA"),
    "cdc_1": ("cdc_officer", "CDC"),
    "hotel_1": ("hotel_staff", "H1"),
    "auditor_1": ("auditor", "CDC"),
}


@pytest.fixture
def released(case, clock):
    """One release and its audit event, made through the queue."""
    r = admin_client("worker_a").post(QUEUE, {"person": [case.wang.pk], "reason": REASON, **CHECKED})
    assert r.status_code == 302
    admin_client("worker_a").get(reverse("admin:people_person_change", args=[case.wang.pk]))
    return Release.objects.get()


def test_a_community_worker_logs_in_with_a_password_and_lands_on_the_queue(case, clock, client):
    r = log_in(client, "worker_a", next="/admin/")
    assert r.status_code == 302 and r.url == reverse("casework_admin:queue")
    assert client.get(r.url).status_code == 200


def test_a_community_worker_asking_for_a_page_gets_that_page(case, clock, client):
    person_list = reverse("admin:people_person_changelist")
    r = log_in(client, "worker_a", next=person_list)
    assert r.status_code == 302 and r.url == person_list


@pytest.mark.parametrize("username", ["cdc_1", "hotel_1", "auditor_1"])
def test_other_staff_land_on_the_index(case, clock, client, username):
    r = log_in(client, username, next="/admin/")
    assert r.status_code == 302 and r.url == reverse("admin:index")
    assert client.get(r.url).status_code == 200


def test_a_wrong_password_stays_on_the_login_page(case, clock, client):
    last_line("create_staff", "worker_a", "--role", "community_worker", "--org", "CA", "--password", PASSWORD)
    r = client.post(reverse("admin:login"), {"username": "worker_a", "password": "nope", "next": "/admin/"})
    assert r.status_code == 200 and not r.wsgi_request.user.is_authenticated


@pytest.mark.parametrize(
    ("username", "links"), [("worker_a", True), ("cdc_1", True), ("hotel_1", False), ("auditor_1", False)]
)
def test_the_index_and_every_page_link_the_queue_for_the_roles_that_have_one(case, clock, username, links):
    page = admin_client(username).get(reverse("admin:index")).content.decode()
    assert ('id="index-queue"' in page) is links
    assert ('id="nav-queue"' in page) is links
    assert "portal/portal.css" in page


@pytest.mark.parametrize("username", ["worker_a", "cdc_1", "auditor_1"])
def test_releases_can_never_be_added_changed_or_deleted_in_the_admin(released, username):
    c = admin_client(username)
    change = reverse("admin:status_release_change", args=[released.pk])
    r = c.get(change)
    assert r.status_code == 200  # seen…
    page = r.content.decode()
    assert 'name="_save"' not in page and "deletelink" not in page
    assert c.post(change, {"reason": "edited"}).status_code == 403  # …never changed
    assert c.post(reverse("admin:status_release_delete", args=[released.pk]), {"post": "yes"}).status_code == 403
    assert c.get(reverse("admin:status_release_add")).status_code == 403
    released.refresh_from_db()
    assert released.reason == REASON


def test_the_auditor_reads_every_audit_event_and_access_log_and_changes_none(released):
    c = admin_client("auditor_1")
    event = AuditEvent.objects.get(kind="popup.released")
    log = AccessLog.objects.latest("at")
    for model, obj in (("auditevent", event), ("accesslog", log)):
        listing = c.get(reverse(f"admin:audit_{model}_changelist"))
        assert listing.status_code == 200
        assert obj in listing.context["cl"].result_list
        change = reverse(f"admin:audit_{model}_change", args=[obj.pk])
        page = c.get(change)
        assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
        assert c.post(change, {"reason": "x", "why": "x"}).status_code == 403
        assert c.post(reverse(f"admin:audit_{model}_delete", args=[obj.pk]), {"post": "yes"}).status_code == 403
        assert c.get(reverse(f"admin:audit_{model}_add")).status_code == 403
    assert AuditEvent.objects.get(pk=event.pk).reason == REASON


@pytest.mark.parametrize("username", ["worker_a", "cdc_1", "hotel_1"])
def test_the_audit_is_for_auditors_only(case, clock, username):
    assert admin_client(username).get(reverse("admin:audit_auditevent_changelist")).status_code == 403
    assert admin_client(username).get(reverse("admin:audit_accesslog_changelist")).status_code == 403
