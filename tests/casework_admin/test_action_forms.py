"""The action forms of the person page (SPEC §5, §7): release a popup, start and end observation,
record an itinerary verification, decide a registration. Each calls its service, shows field
errors next to the fields, says what happened and goes back to the person page with the why;
each refuses other roles (403) and persons outside the jurisdiction (404)."""

from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django import forms
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.translation import gettext as _

from apps.audit.models import AuditEvent
from apps.casework import services
from apps.casework.models import CommunityRegistration, ItineraryVerification
from apps.evidence.models import ItineraryDeclaration, ObservationOrder
from apps.status.models import Popup, Release, ReleaseAttachment
from apps.status.services import status_current
from tests.api.helpers import RISK_COUNTY, at, iso, rid
from tests.casework_admin.conftest import CHECKED, REASON, WANG, admin_client


def required() -> str:
    """Django's own "This field is required.", in Chinese (the admin's language)."""
    message = str(forms.Field.default_error_messages["required"])
    assert "必填" in message
    return message


WHY = "work queue: popup ③ #1"


def user(username):
    from apps.accounts.models import User

    return User.objects.get(username=username)


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def back_to_person_page(response, person) -> None:
    """A success redirects to the person page, keeping the why of the look-up."""
    assert response.status_code == 302, response.content.decode()[:2000]
    parts = urlsplit(response.url)
    assert parts.path == reverse("admin:people_person_change", args=[person.pk])
    assert parse_qs(parts.query)["why"] == [WHY]


def errors_next_to(response, *fields) -> dict:
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == set(fields), form.errors
    page = response.content.decode()
    for field in fields:
        assert f'id="errors-{field}"' in page
    return form.errors


# --- release ----------------------------------------------------------------------------------------


def release_url(person) -> str:
    return reverse("casework_admin:release", args=[person.ref])


def test_a_worker_releases_popup_3_with_evidence_files_and_sees_green(case, clock):
    c = admin_client("worker_a")
    r = c.get(release_url(case.wang), {"why": WHY})
    assert r.status_code == 200
    popup = Popup.objects.get(person=case.wang, ended_at__isnull=True)
    assert r.context["form"].fields["popup"].choices[0][0] == popup.pk
    page = r.content.decode()
    assert "弹窗③" in page and 'enctype="multipart/form-data"' in page and f'value="{WHY}"' in page
    letter = SimpleUploadedFile("chengnuoshu.jpg", b"\xff\xd8 a photo of the letter", content_type="image/jpeg")
    report = SimpleUploadedFile("nat.pdf", b"%PDF a report", content_type="application/pdf")
    r = c.post(
        release_url(case.wang),
        {"popup": popup.pk, "reason": REASON, "why": WHY, "files": [letter, report], **CHECKED},
    )
    back_to_person_page(r, case.wang)
    release = Release.objects.get(person=case.wang)
    assert release.popup_number == 3 and release.actor.username == "worker_a" and release.reason == REASON
    assert ReleaseAttachment.objects.filter(release=release).count() == 2
    event = AuditEvent.objects.get(kind="popup.released", person=case.wang)
    assert event.origin == "admin" and len(event.detail["attachments"]) == 2
    assert status_current(person_id=case.wang.pk).state == "green"
    assert any("③" in m and "未见异常" in m for m in messages_of(r))


def test_the_release_form_shows_field_errors_next_to_the_fields(case, clock):
    c = admin_client("worker_a")
    popup = Popup.objects.get(person=case.wang, ended_at__isnull=True)
    r = c.post(release_url(case.wang), {"popup": popup.pk, "reason": "", "itinerary_verified": "on"})
    errors = errors_next_to(r, "reason", "nat_negative", "commitment_signed")
    assert errors["reason"] == [required()]  # in Chinese
    r = c.post(release_url(case.wang), {"popup": 999999, "reason": REASON, **CHECKED})
    errors_next_to(r, "popup")
    assert not Release.objects.exists()


def test_a_popup_released_meanwhile_sends_the_worker_back_to_the_person_page(case, clock):
    c = admin_client("worker_a")
    popup = Popup.objects.get(person=case.wang, ended_at__isnull=True)
    services.popup_release(
        actor=user("cdc_1"), popup_id=popup.pk, reason=REASON, checklist=dict.fromkeys(services.CHECKLIST, True)
    )
    r = c.post(release_url(case.wang), {"popup": popup.pk, "reason": REASON, "why": WHY, **CHECKED})
    back_to_person_page(r, case.wang)
    assert Release.objects.count() == 1
    assert messages_of(r) == [_("This person has no active popup to release.")]


@pytest.mark.parametrize(("username", "code"), [("hotel_1", 403), ("auditor_1", 403), ("worker_b", 404)])
def test_the_release_form_is_refused(case, clock, username, code):
    c = admin_client(username)
    popup = Popup.objects.get(person=case.wang, ended_at__isnull=True)
    assert c.get(release_url(case.wang)).status_code == code
    assert c.post(release_url(case.wang), {"popup": popup.pk, "reason": REASON, **CHECKED}).status_code == code
    assert not Release.objects.exists()


def test_a_cdc_officer_releases_in_any_community(case, clock):
    popup = Popup.objects.get(person=case.zhao, ended_at__isnull=True)
    r = admin_client("cdc_1").post(release_url(case.zhao), {"popup": popup.pk, "reason": REASON, "why": WHY, **CHECKED})
    back_to_person_page(r, case.zhao)
    assert Release.objects.get().actor.username == "cdc_1"


# --- observation orders -------------------------------------------------------------------------------


def start_url(person, **query) -> str:
    url = reverse("casework_admin:order_start", args=[person.ref])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_a_worker_starts_home_observation_for_14_days(case, clock):
    c = admin_client("worker_a")
    r = c.get(start_url(case.wang, kind="centralized"))  # a community may not: only home is offered
    assert [k for k, _label in r.context["form"].fields["kind"].choices] == ["home"]
    r = c.post(
        start_url(case.wang),
        {"kind": "home", "starts_at": "2021-07-28T12:00", "days": "14", "reason": "居家观察", "why": WHY},
    )
    back_to_person_page(r, case.wang)
    order = ObservationOrder.objects.get(person=case.wang)
    assert order.kind == "home" and order.issued_by.username == "worker_a"
    assert order.starts_at == at(2021, 7, 28, 12) and order.ends_at == at(2021, 8, 11, 12)
    assert AuditEvent.objects.filter(kind="order.started", person=case.wang, origin="admin").count() == 1
    with time_machine.travel(at(2021, 7, 28, 13), tick=False):
        assert status_current(person_id=case.wang.pk).state == "yellow"


def test_a_worker_may_not_start_centralised_observation(case, clock):
    r = admin_client("worker_a").post(start_url(case.wang), {"kind": "centralized", "reason": "x", "days": "14"})
    errors_next_to(r, "kind")
    assert not ObservationOrder.objects.exists()


def test_the_cdc_starts_centralised_observation_now(case, clock):
    c = admin_client("cdc_1")
    r = c.get(start_url(case.wang, kind="centralized"))
    assert r.context["form"].fields["kind"].initial == "centralized"
    r = c.post(start_url(case.wang), {"kind": "centralized", "days": "", "reason": "密切接触者", "why": WHY})
    back_to_person_page(r, case.wang)
    order = ObservationOrder.objects.get()
    assert order.kind == "centralized" and order.ends_at is None and order.starts_at == at(2021, 7, 28, 10)
    assert status_current(person_id=case.wang.pk).state == "red"
    assert any("集中观察" in m for m in messages_of(r))


def test_the_order_form_shows_field_errors(case, clock):
    r = admin_client("worker_a").post(start_url(case.wang), {"kind": "home", "days": "0", "reason": " "})
    errors = errors_next_to(r, "days", "reason")
    assert errors["reason"] == [required()]
    assert not ObservationOrder.objects.exists()


@pytest.mark.parametrize(("username", "code"), [("hotel_1", 403), ("op_1", 403), ("worker_b", 404)])
def test_the_order_form_is_refused(case, clock, username, code):
    c = admin_client(username)
    assert c.get(start_url(case.wang)).status_code == code
    assert c.post(start_url(case.wang), {"kind": "home", "days": "14", "reason": "x"}).status_code == code
    assert not ObservationOrder.objects.exists()


@pytest.fixture
def orders(case, clock):
    case.home = services.order_start(actor=user("worker_a"), person=case.wang, kind="home", reason="居家观察")[0]
    case.red = services.order_start(actor=user("cdc_1"), person=case.wang, kind="centralized", reason="密接")[0]
    return case


def end_url(order) -> str:
    return reverse("casework_admin:order_end", args=[order.pk])


def test_a_worker_ends_the_home_order_their_community_started(orders, clock):
    c = admin_client("worker_a")
    r = c.get(end_url(orders.home), {"why": WHY})
    assert r.status_code == 200 and "居家观察" in r.content.decode()
    r = c.post(end_url(orders.home), {"reason": "提前解除", "why": WHY})
    back_to_person_page(r, orders.wang)
    orders.home.refresh_from_db()
    assert orders.home.ended_at is not None and orders.home.ended_by.username == "worker_a"
    assert AuditEvent.objects.filter(kind="order.ended", origin="admin").count() == 1
    # Ended already: a second try is a conflict, shown on the form.
    r = c.post(end_url(orders.home), {"reason": "again"})
    assert r.status_code == 409 and r.context["form"].non_field_errors()


def test_ending_an_order_needs_a_reason(orders, clock):
    errors = errors_next_to(admin_client("worker_a").post(end_url(orders.home), {"reason": ""}), "reason")
    assert errors["reason"] == [required()]


@pytest.mark.parametrize(
    ("username", "order", "code"),
    [
        ("worker_a", "red", 403),  # the CDC's order
        ("worker_b", "home", 404),  # another community's resident
        ("hotel_1", "home", 403),
        ("auditor_1", "home", 403),
    ],
)
def test_ending_an_order_is_refused(orders, clock, username, order, code):
    target = getattr(orders, order)
    c = admin_client(username)
    assert c.get(end_url(target)).status_code == code
    assert c.post(end_url(target), {"reason": "x"}).status_code == code
    target.refresh_from_db()
    assert target.ended_at is None


def test_the_cdc_ends_any_order(orders, clock):
    r = admin_client("cdc_1").post(end_url(orders.home), {"reason": "疾控解除", "why": WHY})
    back_to_person_page(r, orders.wang)


def test_an_unknown_order_is_not_found(case, clock):
    assert admin_client("worker_a").get(reverse("casework_admin:order_end", args=[987654])).status_code == 404


# --- itinerary verification -------------------------------------------------------------------------


def verify_url(person) -> str:
    return reverse("casework_admin:verify", args=[person.ref])


def test_a_worker_records_a_remote_verification_of_a_declaration(case, clock):
    declaration = {
        "id_type": "resident_id",
        "id_number": WANG,
        "entered_beijing_at": iso(2021, 7, 25, 10),
        "places": [{"area_code": RISK_COUNTY, "arrived_at": iso(2021, 7, 20, 8), "departed_at": iso(2021, 7, 22, 8)}],
    }
    assert case.gate.post("/api/v1/itinerary-declarations/", declaration, format="json").status_code == 201
    d = ItineraryDeclaration.objects.get()
    c = admin_client("worker_a")
    r = c.get(verify_url(case.wang))
    assert [v for v, _label in r.context["form"].fields["declaration"].choices] == ["", d.pk]
    r = c.post(verify_url(case.wang), {"remote": "1", "declaration": str(d.pk), "note": "视频核实行程", "why": WHY})
    back_to_person_page(r, case.wang)
    v = ItineraryVerification.objects.get()
    assert v.remote and v.declaration == d and v.verified_by.username == "worker_a"
    assert AuditEvent.objects.filter(kind="itinerary.verified", origin="admin").count() == 1
    # Recording a verification releases nothing.
    assert status_current(person_id=case.wang.pk).state == "popup"


def test_a_verification_needs_a_note(case, clock):
    r = admin_client("worker_a").post(verify_url(case.wang), {"remote": "0", "note": ""})
    assert errors_next_to(r, "note")["note"] == [required()]
    assert not ItineraryVerification.objects.exists()


@pytest.mark.parametrize(("username", "code"), [("hotel_1", 403), ("policy_1", 403), ("worker_b", 404)])
def test_the_verification_form_is_refused(case, clock, username, code):
    c = admin_client(username)
    assert c.get(verify_url(case.wang)).status_code == code
    assert c.post(verify_url(case.wang), {"remote": "0", "note": "x"}).status_code == code
    assert not ItineraryVerification.objects.exists()


# --- registrations ----------------------------------------------------------------------------------------

RETURNEE = rid("32100319850101002")


@pytest.fixture
def registration(case, clock):
    body = {
        "id_type": "resident_id",
        "id_number": RETURNEE,
        "community": "CA",
        "arriving_at": iso(2021, 7, 28, 18),
        "from_area_code": RISK_COUNTY,
    }
    r = case.gate.post("/api/v1/community-registrations/", body, format="json")
    assert r.status_code == 201, r.content
    return CommunityRegistration.objects.get(pk=r.json()["id"])


def decide_url(registration) -> str:
    return reverse("casework_admin:registration_decide", args=[registration.pk])


def test_a_worker_decides_home_observation(registration, clock):
    c = admin_client("worker_a")
    r = c.get(decide_url(registration), {"why": WHY})
    assert r.status_code == 200 and "扬州市" in r.content.decode()
    r = c.post(
        decide_url(registration),
        {"decision": "home_observation", "observation_days": "7", "note": "来自中风险地区", "why": WHY},
    )
    back_to_person_page(r, registration.person)
    registration.refresh_from_db()
    assert registration.status == "home_observation" and registration.decided_by.username == "worker_a"
    order = ObservationOrder.objects.get(person=registration.person)
    assert (order.kind, order.starts_at, order.ends_at) == ("home", at(2021, 7, 28, 18), at(2021, 8, 4, 18))
    assert AuditEvent.objects.filter(kind="registration.decided", origin="admin").count() == 1
    # Decided already: a second decision is a conflict.
    r = c.post(decide_url(registration), {"decision": "no_isolation", "note": "again"})
    assert r.status_code == 409


def test_no_isolation_with_release_needs_the_checklist(registration, clock):
    c = admin_client("worker_a")
    r = c.post(decide_url(registration), {"decision": "no_isolation", "release_popups": "on", "note": "低风险"})
    errors_next_to(r, "itinerary_verified", "nat_negative", "commitment_signed")
    r = c.post(decide_url(registration), {"decision": "", "note": ""})
    errors_next_to(r, "decision", "note")
    registration.refresh_from_db()
    assert registration.status == "pending"
    r = c.post(decide_url(registration), {"decision": "no_isolation", "note": "低风险", "why": WHY})
    back_to_person_page(r, registration.person)
    registration.refresh_from_db()
    assert registration.status == "no_isolation"


@pytest.mark.parametrize(("username", "code"), [("worker_b", 404), ("hotel_1", 403), ("auditor_1", 403)])
def test_deciding_a_registration_is_refused(registration, clock, username, code):
    c = admin_client(username)
    assert c.get(decide_url(registration)).status_code == code
    assert c.post(decide_url(registration), {"decision": "home_observation", "note": "x"}).status_code == code
    registration.refresh_from_db()
    assert registration.status == "pending"


@pytest.mark.parametrize("action", ["release", "orders/new", "verify", "identity"])
def test_opening_an_action_page_is_a_logged_look_up(case, clock, action):
    from apps.audit.models import AccessLog

    c = admin_client("worker_a")
    assert c.get(f"/admin/casework/persons/{case.wang.ref}/{action}/?why=queue-item-7").status_code == 200
    assert list(AccessLog.objects.filter(person=case.wang).values_list("actor__username", "why", "via")) == [
        ("worker_a", "queue-item-7", "admin")
    ]
    # Without a work item, the action's title is the reason; a refused POST logs nothing more.
    c.get(f"/admin/casework/persons/{case.wang.ref}/{action}/")
    assert AccessLog.objects.filter(person=case.wang).count() == 2
    assert AccessLog.objects.filter(person=case.wang).exclude(why="queue-item-7").get().why != ""


def test_the_full_identity_shows_a_number_the_retention_purge_erased_as_erased(case, clock):
    from apps.people.models import Phone

    with time_machine.travel(at(2021, 7, 28, 9), tick=False):
        phones = [{"number": "13812345678", "channel": "wechat", "bound_at": iso(2021, 1, 1), "unbound_at": None}]
        case.person(WANG, community="CA", phones=phones)
    Phone.objects.filter(person=case.wang).update(number_encrypted="")  # as purge_unbound_phones leaves it
    r = admin_client("worker_a").post(f"/admin/casework/persons/{case.wang.ref}/identity/", {"reason": "核实"})
    assert r.status_code == 200
    page = r.content.decode()
    assert _("(erased)") in page and "13812345678" not in page
