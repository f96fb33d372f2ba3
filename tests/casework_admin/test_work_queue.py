"""The work queue of the admin (SPEC §5–7): what a community worker and the CDC see, oldest first
with counts, overdue appeals highlighted, links to the person page that carry the work item as the
look-up's why, and bulk release of popup ③ through `popups_release`."""

from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.translation import gettext as _

from apps.audit.models import AccessLog, AuditEvent
from apps.status.models import Release
from apps.status.services import status_current
from tests.api.helpers import RISK_COUNTY, at, iso, rid
from tests.casework_admin.conftest import CHECKED, REASON, T0, admin_client, appeal, flag

QUEUE = "/admin/casework/queue/"


def rows(response) -> list:
    return [row["item"] for row in response.context["rows"]]


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def busy(case):
    """Community CA's work: two persons with popup ③ (since 28 July 00:00), a registration made
    the day before and two appeals, one of them overdue."""
    with time_machine.travel(at(2021, 7, 27, 15), tick=False):
        body = {
            "id_type": "resident_id",
            "id_number": rid("32100319850101002"),
            "community": "CA",
            "arriving_at": iso(2021, 7, 30, 18),
            "from_area_code": RISK_COUNTY,
        }
        r = case.gate.post("/api/v1/community-registrations/", body, format="json")
        assert r.status_code == 201, r.content
        case.registration_id = int(r.json()["id"])
    with time_machine.travel(at(2021, 7, 28, 9, 30), tick=False):
        case.late = appeal(case.li, "CA", at(2021, 7, 28, 9, 45), "A-LATE")
        case.fresh = appeal(case.wang, "CA", at(2021, 7, 29, 9, 30), "A-FRESH")
        appeal(case.zhao, "CB", at(2021, 7, 28, 9, 45), "A-OTHER")
    return case


def test_it_lists_the_communitys_work_oldest_first_with_counts(busy, clock):
    c = admin_client("worker_a")
    r = c.get(QUEUE)
    assert r.status_code == 200
    items = rows(r)
    assert [(i.kind, i.person_id) for i in items] == [
        ("registration", items[0].person_id),
        ("popup", busy.wang.pk),
        ("popup", busy.li.pk),
        ("appeal", busy.li.pk),
        ("appeal", busy.wang.pk),
    ]
    assert r.context["counts"] == {"popup": 2, "registration": 1, "appeal": 2, "overdue_appeal": 1, "review": 0}
    page = r.content.decode()
    assert 'id="count-popup">2<' in page and 'id="count-overdue">1<' in page
    # Masked only; the other community's resident is not there.
    assert "王**" in page and "李*" in page and "赵**" not in page
    assert busy.wang.name not in page


def test_it_highlights_overdue_appeals(busy, clock):
    page = admin_client("worker_a").get(QUEUE).content.decode()
    late_row = page[page.index(f'id="row-appeal-{busy.late.pk}"') - 80 :][:200]
    fresh_row = page[page.index(f'id="row-appeal-{busy.fresh.pk}"') - 80 :][:200]
    assert "overdue" in late_row and "overdue" not in fresh_row


def test_it_filters_by_kind(busy, clock):
    r = admin_client("worker_a").get(QUEUE, {"kind": "appeal"})
    assert {i.kind for i in rows(r)} == {"appeal"}
    assert r.context["counts"]["popup"] == 2  # the counts stay whole


def test_each_row_opens_the_person_page_and_logs_the_work_item_as_why(busy, clock):
    c = admin_client("worker_a")
    row = next(row for row in c.get(QUEUE).context["rows"] if row["item"].kind == "popup")
    url = row["url"]
    assert urlsplit(url).path == reverse("admin:people_person_change", args=[busy.wang.pk])
    why = parse_qs(urlsplit(url).query)["why"][0]
    assert why == f"工作台：弹窗③ #{row['item'].id}"
    assert c.get(url).status_code == 200
    log = AccessLog.objects.get(person=busy.wang)
    assert log.why == why and log.actor.username == "worker_a" and log.via == "admin"


def test_the_cdc_sees_the_popups_of_every_community(busy, clock):
    r = admin_client("cdc_1").get(QUEUE)
    assert r.status_code == 200
    popups = {i.person_id for i in rows(r) if i.kind == "popup"}
    assert popups == {busy.wang.pk, busy.li.pk, busy.zhao.pk}


@pytest.mark.parametrize("username", ["hotel_1", "auditor_1", "policy_1", "op_1"])
def test_roles_without_a_queue_are_refused_with_403(case, clock, username):
    c = admin_client(username)
    assert c.get(QUEUE).status_code == 403
    assert c.post(QUEUE, {"person": [case.wang.pk], "reason": REASON, **CHECKED}).status_code == 403
    assert not Release.objects.exists()


def test_anonymous_visitors_are_sent_to_the_login(case, clock, client):
    r = client.get(QUEUE)
    assert r.status_code == 302 and r.url.startswith(reverse("admin:login"))


def test_bulk_release_writes_one_release_and_one_audit_per_person_and_skips_outsiders(case, clock):
    c = admin_client("worker_a")
    ids = [case.wang.pk, case.li.pk, case.zhao.pk]  # 赵 lives in CB: not worker_a's
    r = c.post(QUEUE, {"person": ids, "reason": REASON, **CHECKED})
    assert r.status_code == 302 and r.url == QUEUE
    assert sorted(Release.objects.values_list("person_id", flat=True)) == sorted([case.wang.pk, case.li.pk])
    events = AuditEvent.objects.filter(kind="popup.released")
    assert sorted(e.person_id for e in events) == sorted([case.wang.pk, case.li.pk])
    for event in events:
        assert event.actor.username == "worker_a" and event.origin == "admin" and event.reason == REASON
        assert event.detail["checklist"] == {
            "itinerary_verified": True,
            "nat_negative": True,
            "commitment_signed": True,
        }
        assert event.detail["status_before"]["state"] == "popup"
        assert event.detail["status_after"]["state"] == "green"
    texts = messages_of(r)
    assert any("2" in t and "③" in t for t in texts)
    assert any("1" in t and _("outside your jurisdiction") in t for t in texts)
    assert status_current(person_id=case.wang.pk).state == "green"
    assert status_current(person_id=case.zhao.pk).state == "popup"
    # The released persons have left the queue.
    assert rows(c.get(QUEUE)) == []


def test_bulk_release_needs_persons_a_reason_and_the_whole_checklist(case, clock):
    c = admin_client("worker_a")
    r = c.post(QUEUE, {"reason": "  ", "itinerary_verified": "on"})
    assert r.status_code == 200
    form = r.context["form"]
    assert set(form.errors) == {"person", "reason", "nat_negative", "commitment_signed"}
    page = r.content.decode()
    for field in ("person", "reason", "nat_negative", "commitment_signed"):
        assert f'id="errors-{field}"' in page
    assert not Release.objects.exists() and not AuditEvent.objects.filter(kind="popup.released").exists()
    # What was typed and ticked is kept for the second try.
    r = c.post(QUEUE, {"person": [case.wang.pk], "reason": REASON, "itinerary_verified": "on"})
    assert set(r.context["form"].errors) == {"nat_negative", "commitment_signed"}
    assert str(case.wang.pk) in r.context["ticked"]


def test_bulk_release_of_only_outsiders_releases_nobody(case, clock):
    r = admin_client("worker_a").post(QUEUE, {"person": [case.zhao.pk], "reason": REASON, **CHECKED})
    assert r.status_code == 302
    assert not Release.objects.exists() and not AuditEvent.objects.filter(kind="popup.released").exists()
    assert any("0" in t for t in messages_of(r))


def test_the_queue_costs_the_same_number_of_queries_for_many_persons(case, django_assert_max_num_queries):
    c = admin_client("worker_a")
    with time_machine.travel(T0, tick=False), CaptureQueriesContext(connection) as few:
        assert len(rows(c.get(QUEUE))) == 2
    budget = len(few)  # read now: the next request clears the connection's query log
    with time_machine.travel(at(2021, 7, 28, 9), tick=False):
        for n in range(12):
            idn = rid(f"11010519800101{n:02d}1")
            flag(case, idn, f"bulk-{n}", "CA", name="钱七")
            case.status(idn)  # the recomputation a feed triggers runs after commit: read it now
    with time_machine.travel(T0, tick=False), django_assert_max_num_queries(budget) as many:
        assert len(rows(c.get(QUEUE))) == 14
    assert len(many) == budget <= 12
