"""Opening an appeal routes it by SPEC §6 — community of residence, else of an open registration,
else the CDC — with a tracking number for the caller and a deadline per category."""

import datetime as dt

import pytest
import time_machine

from apps.appeals.choices import DEADLINE_HOURS, Category
from apps.appeals.models import Appeal, AppealEvent
from apps.appeals.selectors import appeal_json, overdue_q
from apps.audit.models import AuditEvent
from apps.core import crypto
from tests.api.helpers import at, iso, rid

from .conftest import RESIDENT, TRAVELLER, appeal_body

OPENED = at(2021, 8, 16, 10)


def open_appeal(w, body, c=None):
    r = (c or w.op).post("/api/v1/appeals/", body, format="json")
    assert r.status_code == 201, r.content
    return r.json()


def test_it_routes_to_the_community_of_residence(flagged):
    w = flagged
    with time_machine.travel(OPENED, tick=False):
        body = open_appeal(w, appeal_body())
    assert (body["routed_to"], body["status"], body["routing_basis"]) == ("CA", "routed", "residence")
    assert body["tracking_number"] == "AP20210816-0001"
    assert dt.datetime.fromisoformat(body["due_at"]) == OPENED + dt.timedelta(hours=24)
    appeal = Appeal.objects.get(pk=body["id"])
    assert crypto.decrypt(appeal.caller_phone_encrypted) == "13812345678"
    assert body["caller_phone"] == "138****5678"
    assert RESIDENT not in str(body) and "13812345678" not in str(body)
    event = AppealEvent.objects.get(appeal=appeal)
    assert (event.from_status, event.to_status, event.routed_to.code, event.actor.username) == (
        "",
        "routed",
        "CA",
        "op_1",
    )
    audit = AuditEvent.objects.get(kind="appeal.opened")
    assert audit.actor.username == "op_1" and audit.detail["routed_to"] == "CA"


def test_it_routes_to_the_community_of_an_open_registration_when_there_is_no_residence(flagged):
    w = flagged
    with time_machine.travel(OPENED, tick=False):
        registration = {
            "id_type": "resident_id",
            "id_number": TRAVELLER,
            "community": "CB",
            "arriving_at": iso(2021, 8, 18, 18),
        }
        assert w.gate.post("/api/v1/community-registrations/", registration, format="json").status_code == 201
        body = open_appeal(w, appeal_body(TRAVELLER, category="dead_loop"))
    assert (body["routed_to"], body["routing_basis"]) == ("CB", "registration")
    assert dt.datetime.fromisoformat(body["due_at"]) == OPENED + dt.timedelta(hours=12)


def test_it_routes_to_the_cdc_with_the_smallest_code_when_there_is_no_community(flagged):
    w = flagged
    with time_machine.travel(OPENED, tick=False):
        w.person(rid("44030019700101001"), name="陈七")  # known from the feeds, with no community
        first = open_appeal(w, appeal_body(TRAVELLER, category="dead_loop"))
        second = open_appeal(w, appeal_body(rid("44030019700101001"), category="other", channel="12306"), c=w.op2)
    assert (first["routed_to"], first["routing_basis"]) == ("CDC", "cdc")
    assert second["routed_to"] == "CDC"
    assert second["tracking_number"] == "AP20210816-0002"


def test_a_decided_registration_no_longer_routes_to_its_community(flagged):
    w = flagged
    with time_machine.travel(OPENED, tick=False):
        registration = {
            "id_type": "resident_id",
            "id_number": TRAVELLER,
            "community": "CB",
            "arriving_at": iso(2021, 8, 18),
        }
        reg = w.gate.post("/api/v1/community-registrations/", registration, format="json").json()
        decision = {"decision": "no_isolation", "note": "核验无风险"}
        assert (
            w.wb.post(f"/api/v1/community-registrations/{reg['id']}/decide/", decision, format="json").status_code
            == 200
        )
        body = open_appeal(w, appeal_body(TRAVELLER))
    assert body["routed_to"] == "CDC"


@pytest.mark.parametrize("category", Category.values)
def test_each_category_is_due_after_its_hours_and_overdue_only_past_that(flagged, category):
    w = flagged
    with time_machine.travel(OPENED, tick=False):
        body = open_appeal(w, appeal_body(category=category))
    appeal = Appeal.objects.get(pk=body["id"])
    due = OPENED + dt.timedelta(hours=DEADLINE_HOURS[category])
    assert appeal.due_at == due
    assert not Appeal.objects.filter(overdue_q(due)).exists(), "at the deadline itself it is not overdue"
    assert not appeal_json(appeal, due)["overdue"]
    assert Appeal.objects.filter(overdue_q(due + dt.timedelta(seconds=1))).get() == appeal
    assert appeal_json(appeal, due + dt.timedelta(seconds=1))["overdue"]


def test_the_deadlines_are_stated_for_every_category():
    assert DEADLINE_HOURS == {
        "wrongly_flagged": 24,
        "status_not_updated": 12,
        "test_not_uploaded": 24,
        "phone_problem": 48,
        "elderly_or_child": 12,
        "dead_loop": 12,
        "other": 72,
    }


def test_bad_input_is_refused_with_field_errors(hotline):
    w = hotline
    with time_machine.travel(OPENED, tick=False):
        r = w.op.post("/api/v1/appeals/", appeal_body(category="nonsense"), format="json")
        assert r.status_code == 400 and "category" in r.json()
        r = w.op.post("/api/v1/appeals/", appeal_body(channel="110"), format="json")
        assert r.status_code == 400 and "channel" in r.json()
        r = w.op.post("/api/v1/appeals/", appeal_body(caller_phone="12"), format="json")
        assert r.status_code == 400 and "caller_phone" in r.json()
        bad = RESIDENT[:-1] + ("0" if RESIDENT[-1] != "0" else "1")
        r = w.op.post("/api/v1/appeals/", appeal_body(idn=bad), format="json")
        assert r.status_code == 400 and "id_number" in r.json()
    assert not Appeal.objects.exists()
