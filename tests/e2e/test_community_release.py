"""End to end, in a real browser: a community worker logs into the admin, finds a resident with
popup ③ in the work queue, opens the person page, releases the popup with the reason and the
three checklist items, and sees the status turn green (SPEC §5)."""

import datetime as dt

import pytest

from apps.audit.models import AccessLog, AuditEvent
from apps.core.clock import now
from apps.people.models import Person
from apps.status.models import Release
from tests.api.helpers import RISK_COUNTY, rid, stay
from tests.e2e.conftest import requires_browser, size_name
from tests.personas import PASSWORD

pytestmark = requires_browser

WANG = rid("11010519900101123")
REASON = "已电话核实14天行程，查验核酸阴性，已签承诺书"


@pytest.fixture
def flagged(transactional_db, world):
    """A resident of community CA with popup ③ now: a stay last week in a county that turned
    medium risk an hour ago. worker_a of CA logs in with a password."""
    t = now()
    world.person(WANG, name="王小明", community="CA")
    arrived, departed = t - dt.timedelta(days=8), t - dt.timedelta(days=6)
    world.feed("stays", stay(WANG, "G1", RISK_COUNTY, arrived.isoformat(), departed.isoformat()))
    world.designate(RISK_COUNTY, "medium", (t - dt.timedelta(hours=1)).isoformat())
    assert [p["number"] for p in world.status(WANG)["popups"]] == [3]
    return Person.objects.get(id_hash__isnull=False, name="王小明")


def test_a_community_worker_releases_popup_3_from_the_queue(flagged, staff_page, artifacts, viewport):
    page = staff_page("worker_a", PASSWORD)

    # The login lands on the work queue, where the resident waits with popup ③.
    assert page.url.endswith("/admin/casework/queue/")
    row = page.locator(f'tr[data-person="{flagged.ref}"]')
    assert row.count() == 1
    assert "③" in row.inner_text() and "王**" in row.inner_text()

    # Open the person page from the queue: the status, its reason and what clears it.
    with page.expect_navigation():
        row.locator("a.portal-person-link").click()
    badge = page.locator("#state-badge")
    assert badge.get_attribute("data-state") == "popup"
    assert "弹窗③" in page.locator("#popup-3").inner_text()
    assert "中风险" in page.locator("#popup-3 .portal-reason-summary").inner_text()

    # Release popup ③: the reason and the three checklist items.
    with page.expect_navigation():
        page.locator('#case-actions a[href*="/release/"]').click()
    page.check("input[name=popup]")
    page.fill("#id_reason", REASON)
    page.check("#id_itinerary_verified")
    page.check("#id_nat_negative")
    page.check("#id_commitment_signed")
    with page.expect_navigation():
        page.click("#action-submit")

    # Back on the person page: green, with the release on the timeline.
    assert "/admin/people/person/" in page.url
    assert page.locator("#state-badge").get_attribute("data-state") == "green"
    assert page.locator(".messagelist .success").count() == 1
    release = Release.objects.get(person=flagged)
    assert page.locator(f"#ev-release-{release.pk}").count() == 1
    page.screenshot(path=str(artifacts / f"community_release_{size_name(viewport)}.png"), full_page=True)

    assert release.actor.username == "worker_a" and release.reason == REASON
    assert AuditEvent.objects.filter(kind="popup.released", person=flagged, origin="admin").count() == 1
    whys = set(AccessLog.objects.filter(person=flagged, actor__username="worker_a").values_list("why", flat=True))
    assert any(why.startswith("工作台：弹窗③ #") for why in whys)
