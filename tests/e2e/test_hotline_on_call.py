"""The hotline resolves 误伤 on the call, in a real browser (Debian's Chromium through Playwright,
against the live server), in Chinese, at a laptop's size and at a phone's (SPEC §6, issue 18):

a caller's telecom itinerary puts them in 扬州市 (city precision) last week, where 邗江区 turned
medium risk an hour ago: popup ③. The 12345 operator takes the call on the intake form, sees on
the appeal page the stay marked "city precision, can be verified on the call" but not covered,
records the caller's itinerary (广陵区, county by county, with the entry into Beijing), sees at once
that it covers the stay, tries to release with the checklist incomplete (refused, the reason kept),
then releases with the checklist: the caller is green, the appeal resolved, and rail polling the
restrictions feed sees them under `lifted` within the minute.

Every page loaded is also checked for forms inside forms and CSP violations (tests/e2e/conftest.py).
Screenshots: test-artifacts/e2e/on_call_<size>_*.png."""

import datetime as dt
import time

import pytest

from apps.appeals.models import Appeal
from apps.audit.models import AccessLog, AuditEvent
from apps.core.clock import LOCAL_TZ, now
from apps.evidence.models import ItineraryDeclaration, Stay
from apps.people.models import Person
from apps.status.models import PersonStatus, Release
from tests.api.helpers import LOW_COUNTY_SAME_CITY, RISK_CITY, RISK_COUNTY, rid, stay
from tests.e2e.conftest import LAPTOP, requires_browser
from tests.personas import PASSWORD

pytestmark = requires_browser

LI = rid("11010519920202123")
PHONE_NUMBER = "13900000002"
REASON = "来电人逐县核实：8日至10日仅在扬州市广陵区，未到过邗江区"
RELEASE_REASON = "电话核实行程，查验核酸阴性（小程序截图），已签电子承诺书"


@pytest.fixture
def caller(transactional_db, world):
    """Li, a resident of community CA, whose telecom itinerary was in 扬州市 8 to 7 days ago; 邗江区
    turned medium risk an hour ago. The 12345 centre's operator logs in with a password; rail
    polls the restrictions feed with its token."""
    world.personas.build("op_1")
    world.rail = world.personas.client("rail")
    t = now()
    world.arrived, world.departed = t - dt.timedelta(days=8), t - dt.timedelta(days=7)
    world.person(
        LI,
        name="李小红",
        community="CA",
        phones=[{"number": PHONE_NUMBER, "channel": "carrier", "bound_at": (t - dt.timedelta(days=60)).isoformat()}],
    )
    world.feed(
        "stays",
        stay(
            None,
            "T-LI-1",
            RISK_CITY,
            world.arrived.isoformat(),
            world.departed.isoformat(),
            precision="city",
            source="telecom",
            phone=PHONE_NUMBER,
        ),
    )
    world.designate(RISK_COUNTY, "medium", (t - dt.timedelta(hours=1)).isoformat())
    assert [r["rule"] for r in world.status(LI)["reasons"]] == ["popup3.risk_city_stay"]
    world.li = Person.objects.get(name="李小红")
    world.telecom = Stay.objects.get(source="telecom", external_id="T-LI-1")
    return world


def local_input(moment: dt.datetime) -> str:
    """A moment as a `datetime-local` input takes it (local time, to the minute)."""
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%dT%H:%M")


def press(tab, selector: str) -> None:
    with tab.expect_navigation():
        tab.locator(selector).click()


def success(tab) -> str:
    messages = tab.locator(".messagelist .success")
    assert messages.count() == 1, tab.locator(".messagelist").all_inner_texts()
    return messages.inner_text()


def poll(world, since=None) -> dict:
    r = world.rail.get("/api/v1/restrictions/", {"changed_since": since} if since else {})
    assert r.status_code == 200, r.content
    return r.json()


def test_from_a_call_to_green_and_lifted(caller, live_server, staff_tab, artifacts, viewport):
    w = caller
    size = "laptop" if viewport == LAPTOP else "phone"
    shot = lambda tab, name: tab.screenshot(path=str(artifacts / f"on_call_{size}_{name}.png"), full_page=True)  # noqa: E731
    first_poll = poll(w)
    assert LI in [p["id_number"] for p in first_poll["restricted"]]

    # The call: the operator opens the appeal on the intake form.
    op = staff_tab("op_1", PASSWORD)
    assert op.locator("html").get_attribute("lang").startswith("zh")
    op.goto(f"{live_server.url}/admin/appeals/appeal/add/")
    op.select_option("#id_id_type", "resident_id")
    op.fill("#id_id_number", LI)
    op.select_option("#id_channel", "12306")
    op.select_option("#id_category", "wrongly_flagged")
    op.fill("#id_description", "来电人称未去过扬州市邗江区，健康宝弹窗③，无法购买火车票")
    press(op, "input[name=_open]")
    appeal = Appeal.objects.get(person=w.li)
    assert op.url.endswith(f"/admin/appeals/appeal/{appeal.pk}/change/")
    assert appeal.tracking_number in success(op)

    # The caller's ③ evidence: the telecom stay, city precision, verifiable on the call, not covered.
    row = op.locator(f"#evidence-stay-{w.telecom.pk}")
    assert row.get_attribute("data-mark") == "uncovered"
    assert "扬州市" in row.inner_text()
    assert "弹窗③" in op.locator("#person-status").inner_text() and LI not in op.content()
    assert AccessLog.objects.filter(actor__username="op_1", why__contains=appeal.tracking_number).exists()
    shot(op, "1_evidence")

    # The itinerary, county by county: 广陵区 over the days of the telecom stay.
    op.fill("#id_itinerary-places-0-area_code", LOW_COUNTY_SAME_CITY)
    op.fill("#id_itinerary-places-0-arrived_at", local_input(w.arrived - dt.timedelta(hours=2)))
    op.fill("#id_itinerary-places-0-departed_at", local_input(w.departed + dt.timedelta(hours=1)))
    op.fill("#id_itinerary-entered_beijing_at", local_input(w.departed + dt.timedelta(hours=5)))
    op.fill("#id_itinerary-reason", REASON)
    press(op, "#step-itinerary input[name=_itinerary]")
    assert appeal.tracking_number in success(op)
    (declaration,) = ItineraryDeclaration.objects.filter(person=w.li)
    assert declaration.origin == "staff" and declaration.ingestion.submitted_by.username == "op_1"
    assert [p.area_id for p in declaration.places.all()] == [LOW_COUNTY_SAME_CITY]
    # At once: the stay is covered, and the whole of ③ may be released on the call.
    assert op.locator(f"#evidence-stay-{w.telecom.pk}").get_attribute("data-mark") == "covered"
    assert op.locator("#on-call-verdict.on-call-covered").count() == 1
    assert "广陵区" in op.locator("#on-call-declarations").inner_text()
    # No NAT within 48 h of the entry is on record: the itinerary alone does not clear ③.
    assert PersonStatus.objects.get(person=w.li).state == "popup"
    shot(op, "2_itinerary")

    # Release with the checklist incomplete: refused beside the button, the reason kept.
    op.fill("#id_release_on_call-reason", RELEASE_REASON)
    op.check("#id_release_on_call-itinerary_verified")
    press(op, "#step-release_on_call input[name=_release_on_call]")
    assert op.locator("#step-release_on_call .errorlist").count() >= 2
    assert op.input_value("#id_release_on_call-reason") == RELEASE_REASON
    assert Release.objects.count() == 0 and PersonStatus.objects.get(person=w.li).state == "popup"
    shot(op, "3_checklist_error")

    # Release with the whole checklist: green, resolved.
    op.check("#id_release_on_call-nat_negative")
    op.check("#id_release_on_call-commitment_signed")
    started = time.perf_counter()
    press(op, "#step-release_on_call input[name=_release_on_call]")
    assert "未见异常" in success(op)
    assert "未见异常" in op.locator("#person-status").inner_text()
    appeal.refresh_from_db()
    assert appeal.status == "resolved" and appeal.resolution == RELEASE_REASON
    (release,) = Release.objects.filter(person=w.li)
    assert release.popup_number == 3 and release.actor.username == "op_1"
    assert PersonStatus.objects.get(person=w.li).state == "green"
    assert op.locator("#appeal-steps").count() == 0, "a resolved appeal offers no step"
    shot(op, "4_green")

    # Rail, polling from where it left off, sees Li lifted within the minute.
    page = poll(w, first_poll["as_of"])
    seen = time.perf_counter() - started
    lifted = {p["id_number"]: p for p in page["lifted"]}
    assert LI in lifted and seen < 60
    assert abs((dt.datetime.fromisoformat(lifted[LI]["at"]) - release.created_at).total_seconds()) < 60
    print(f"[{size}] release pressed → lifted in the restrictions feed: {seen:.2f} s")
    kinds = set(AuditEvent.objects.filter(person=w.li).values_list("kind", flat=True))
    assert {"appeal.opened", "appeal.itinerary_recorded", "popup.released", "appeal.released_on_call"} <= kinds
