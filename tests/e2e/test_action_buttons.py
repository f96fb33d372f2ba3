"""Every action button of the appeal page and of the person page, pressed in a real browser
(Debian's Chromium through Playwright, against the live server), in Chinese, at a laptop's size
and at a phone's — and each press's effect checked: the record's state in the database, the page's
state after the redirect, and the success message (issue 12, finding 7: the appeal page's steps
were forms inside the admin's change form, which the browser drops, so every one answered 403).

- The appeal page: the 12345 operator takes two calls on the intake form ("Check" says nothing
  before the centre has an appeal about the caller, and shows the masked status after), and
  re-routes the second appeal to another community; the caller's community starts work on the
  first, resolves it with an incomplete checklist (refused, the typed resolution kept), then with
  the checklist and a release (the caller turns green); the other community rejects the second.
- The person page: a community worker releases popup ③, starts home observation and ends it,
  records an itinerary verification, opens the full identity, and decides the person's
  registration.

Every page loaded is also checked for forms inside forms and CSP violations (tests/e2e/conftest.py).
Screenshots: test-artifacts/e2e/buttons_<size>_*.png."""

import datetime as dt

import pytest

from apps.appeals.models import Appeal
from apps.audit.models import AccessLog
from apps.casework.models import CommunityRegistration, ItineraryVerification
from apps.core.clock import now
from apps.evidence.models import ObservationOrder
from apps.people.models import Person
from apps.status.models import PersonStatus, Release
from tests.api.helpers import RISK_COUNTY, rid, stay
from tests.e2e.conftest import requires_browser, size_name
from tests.personas import PASSWORD

pytestmark = requires_browser

WANG = rid("11010519900101123")
RESOLUTION = "已远程核验14天行程，无中高风险地区旅居史，查验核酸阴性，已签承诺书"


@pytest.fixture
def flagged(transactional_db, world):
    """Wang, a resident of community CA with popup ③ now (a stay last week in a county that turned
    medium risk an hour ago); a hotline centre with its operator; workers of CA and CB; all log
    in with a password."""
    world.personas.build("op_1")
    t = now()
    world.person(WANG, name="王小明", community="CA")
    arrived, departed = t - dt.timedelta(days=8), t - dt.timedelta(days=6)
    world.feed("stays", stay(WANG, "G1", RISK_COUNTY, arrived.isoformat(), departed.isoformat()))
    world.designate(RISK_COUNTY, "medium", (t - dt.timedelta(hours=1)).isoformat())
    assert [p["number"] for p in world.status(WANG)["popups"]] == [3]
    return Person.objects.get(name="王小明")


def state_of(person) -> str:
    return PersonStatus.objects.get(person=person).state


def success(tab) -> str:
    """The one success message the page shows (after a redirect)."""
    messages = tab.locator(".messagelist .success")
    assert messages.count() == 1, tab.locator(".messagelist").all_inner_texts()
    return messages.inner_text()


def press(tab, selector: str) -> None:
    """Press a button that submits a form, and wait for the page it leads to."""
    with tab.expect_navigation():
        tab.locator(selector).click()


# --- the appeal page ----------------------------------------------------------------------------------


def take_call(tab, live_server) -> Appeal:
    """The operator fills the intake form for Wang and opens the appeal; the new appeal."""
    tab.goto(f"{live_server.url}/admin/appeals/appeal/add/")
    tab.select_option("#id_id_type", "resident_id")
    tab.fill("#id_id_number", WANG)
    tab.select_option("#id_channel", "12345")
    tab.select_option("#id_category", "wrongly_flagged")
    tab.fill("#id_description", "来电人称14天内未去过中高风险地区，健康宝弹窗③，无法返京")
    tab.fill("#id_caller_phone", "13812345678")
    before = set(Appeal.objects.values_list("pk", flat=True))
    press(tab, "input[name=_open]")
    (appeal,) = Appeal.objects.exclude(pk__in=before)
    assert tab.url.endswith(f"/admin/appeals/appeal/{appeal.pk}/change/")
    assert appeal.tracking_number in success(tab)
    assert "138****5678" in tab.content() and "13812345678" not in tab.content()
    return appeal


def test_every_button_of_the_appeal_page(flagged, live_server, staff_tab, artifacts, viewport):
    size = size_name(viewport)
    shot = lambda tab, name: tab.screenshot(path=str(artifacts / f"buttons_{size}_appeal_{name}.png"), full_page=True)  # noqa: E731

    # The operator checks the caller's ID: the centre has no appeal about Wang yet, so nothing is
    # shown (the same as for an unknown ID) and nothing is looked up.
    op = staff_tab("op_1", PASSWORD)
    op.goto(f"{live_server.url}/admin/appeals/appeal/add/")
    op.fill("#id_id_number", WANG)
    press(op, "input[name=_check]")
    assert op.locator("#preview-pending").is_visible() and op.locator("#person-status").count() == 0
    assert op.input_value("#id_id_number") == WANG
    assert not AccessLog.objects.filter(actor__username="op_1").exists()
    first = take_call(op, live_server)
    assert first.routed_to.code == "CA" and first.status == "routed"

    # The second call: now the check shows Wang's masked status, and the log names the appeal.
    op.goto(f"{live_server.url}/admin/appeals/appeal/add/")
    op.fill("#id_id_number", WANG)
    press(op, "input[name=_check]")
    panel = op.locator("#person-status").inner_text()
    assert "王**" in panel and "弹窗③" in panel and WANG not in panel
    assert first.tracking_number in op.locator("#preview-item").inner_text()
    assert AccessLog.objects.filter(actor__username="op_1", why__contains=first.tracking_number).exists()
    shot(op, "1_check")
    second = take_call(op, live_server)

    # Re-route (the hotline): the second appeal goes to community CB.
    assert op.locator("#step-resolve").count() == 0 and op.locator("#step-start").count() == 0
    op.select_option("#id_route-routed_to", label="另一社区 (CB)")
    op.fill("#id_route-reason", "来电人实际居住在另一社区")
    press(op, "#step-route input[name=_route]")
    second.refresh_from_db()
    assert second.routed_to.code == "CB" and second.routing_basis == "manual"
    assert second.tracking_number in success(op)
    assert "另一社区" in op.locator("div.form-row.field-routed_to").inner_text()
    shot(op, "2_rerouted")

    # Start (the community): the first appeal is in progress.
    worker = staff_tab("worker_a", PASSWORD)
    worker.goto(f"{live_server.url}/admin/appeals/appeal/{first.pk}/change/")
    assert worker.locator("#step-route").count() == 0
    worker.fill("#id_start-note", "已电话联系来电人")
    press(worker, "#step-start input[name=_start]")
    first.refresh_from_db()
    assert first.status == "in_progress" and first.tracking_number in success(worker)
    assert worker.locator("#step-start").count() == 0, "started: no second start"

    # Resolve with a release, but the checklist incomplete: refused, the resolution kept.
    worker.fill("#id_resolve-resolution", RESOLUTION)
    worker.check("#id_resolve-release_popups")
    worker.check("#id_resolve-itinerary_verified")
    press(worker, "#step-resolve input[name=_resolve]")
    assert worker.locator("#step-resolve .errorlist").count() >= 2
    assert worker.input_value("#id_resolve-resolution") == RESOLUTION
    assert worker.is_checked("#id_resolve-release_popups") and worker.is_checked("#id_resolve-itinerary_verified")
    first.refresh_from_db()
    assert first.status == "in_progress" and state_of(flagged) == "popup"
    shot(worker, "3_checklist_error")

    # Resolve with the whole checklist: resolved, the popup released, the caller green.
    worker.check("#id_resolve-nat_negative")
    worker.check("#id_resolve-commitment_signed")
    press(worker, "#step-resolve input[name=_resolve]")
    first.refresh_from_db()
    assert first.status == "resolved" and first.resolution == RESOLUTION
    assert first.tracking_number in success(worker)
    assert state_of(flagged) == "green" and Release.objects.filter(person=flagged, popup_number=3).count() == 1
    assert "未见异常" in worker.locator("#person-status").inner_text()
    assert worker.locator("#appeal-steps").count() == 0, "a resolved appeal offers no step"
    shot(worker, "4_resolved")

    # Reject (the other community): the second appeal, now routed to CB.
    other = staff_tab("worker_b", PASSWORD)
    other.goto(f"{live_server.url}/admin/appeals/appeal/{second.pk}/change/")
    other.fill("#id_reject-reason", "同一来电人重复诉求，已在另一诉求中办结")
    press(other, "#step-reject input[name=_reject]")
    second.refresh_from_db()
    assert second.status == "rejected" and second.tracking_number in success(other)
    shot(other, "5_rejected")
    assert [e.to_status for e in first.events.order_by("at", "pk")] == ["routed", "in_progress", "resolved"]
    assert [e.to_status for e in second.events.order_by("at", "pk")] == ["routed", "routed", "rejected"]


# --- the person page ----------------------------------------------------------------------------------


def test_every_button_of_the_person_page(flagged, world, live_server, staff_tab, artifacts, viewport):
    size = size_name(viewport)
    shot = lambda tab, name: tab.screenshot(path=str(artifacts / f"buttons_{size}_person_{name}.png"), full_page=True)  # noqa: E731
    arriving = (now() + dt.timedelta(days=1)).isoformat()
    body = {"id_type": "resident_id", "id_number": WANG, "community": "CA", "arriving_at": arriving}
    assert world.gate.post("/api/v1/community-registrations/", body, format="json").status_code == 201
    person_page = f"{live_server.url}/admin/people/person/{flagged.pk}/change/"
    tab = staff_tab("worker_a", PASSWORD)
    tab.goto(person_page)
    assert tab.locator("#state-badge").get_attribute("data-state") == "popup"
    shot(tab, "1_popup")

    # Release popup ③ (the checklist).
    with tab.expect_navigation():
        tab.locator('#case-actions a[href*="/release/"]').click()
    tab.check("input[name=popup]")
    tab.fill("#id_reason", "已电话核实14天行程，查验核酸阴性，已签承诺书")
    for item in ("itinerary_verified", "nat_negative", "commitment_signed"):
        tab.check(f"#id_{item}")
    press(tab, "#action-submit")
    assert "③" in success(tab)
    assert tab.locator("#state-badge").get_attribute("data-state") == "green" and state_of(flagged) == "green"

    # Start home observation: yellow.
    with tab.expect_navigation():
        tab.locator('#case-actions a[href*="/orders/new/"]').first.click()
    tab.fill("#id_days", "14")
    tab.fill("#id_reason", "密接的密接，居家观察14天")
    press(tab, "#action-submit")
    order = ObservationOrder.objects.get(person=flagged, kind="home")
    assert order.issuer_org.code == "CA" and success(tab)
    assert tab.locator("#state-badge").get_attribute("data-state") == "yellow" and state_of(flagged) == "yellow"
    shot(tab, "2_home_observation")

    # End it: green again.
    with tab.expect_navigation():
        tab.locator(f'#order-{order.pk} a[href*="/end/"]').click()
    tab.fill("#id_reason", "核酸阴性，提前解除")
    press(tab, "#action-submit")
    order.refresh_from_db()
    assert order.ended_at is not None and success(tab)
    assert tab.locator("#state-badge").get_attribute("data-state") == "green" and state_of(flagged) == "green"

    # Record an itinerary verification.
    with tab.expect_navigation():
        tab.locator('#case-actions a[href*="/verify/"]').click()
    tab.check("input[name=remote][value='1']")
    tab.fill("#id_note", "视频核验行程卡，14天内无中高风险地区")
    press(tab, "#action-submit")
    assert ItineraryVerification.objects.filter(person=flagged, remote=True).count() == 1 and success(tab)

    # Show the full identity (for a reason, logged).
    with tab.expect_navigation():
        tab.locator('#case-actions a[href*="/identity/"]').click()
    tab.fill("#id_reason", "电话联系本人")
    press(tab, "#action-submit")
    assert tab.locator("#identity-name").inner_text() == "王小明"
    assert tab.locator("#identity-id").inner_text() == WANG
    assert AccessLog.objects.filter(person=flagged, via="reveal", why__contains="电话联系本人").count() == 1
    shot(tab, "3_identity")
    with tab.expect_navigation():
        tab.click("#identity-back")

    # Decide the registration: no isolation needed.
    registration = CommunityRegistration.objects.get(person=flagged)
    with tab.expect_navigation():
        tab.locator(f'#registration-{registration.pk} a[href*="/decide/"]').click()
    tab.check("input[name=decision][value='no_isolation']")
    tab.fill("#id_note", "行程已核实，无需隔离")
    press(tab, "#action-submit")
    registration.refresh_from_db()
    assert registration.status == "no_isolation" and success(tab)
    assert tab.locator("#case-registrations").count() == 0
    shot(tab, "4_done")
