"""Who may create and change a person (SPEC §7, finding 1 of the "One door" issue): feeds create
and update; staff change only persons they can see, with a reason, as their role allows; every
staff change is an audited manual change with the record and the status before and after; a
staff request never creates a person, and a person outside the caller's jurisdiction answers 404
with nothing written."""

import pytest
import time_machine

from apps.audit.models import AuditEvent
from apps.people.models import Person, Phone
from tests.api.helpers import RISK_CITY, RISK_COUNTY, at, iso, rid

IDN = rid("11010519900101123")
STRANGER = rid("11010519851212001")
PHONE = "13800000042"


@pytest.fixture
def w(world):
    with time_machine.travel(at(2021, 7, 28, 9), tick=False):
        world.hotline = world.personas.client("op_1")
        world.ref = world.person(IDN, community="CA")
    return world


def person() -> Person:
    return Person.objects.select_related("community").get(display_id=IDN[:2] + "*" * 14 + IDN[-2:])


def post(c, **body):
    return c.post("/api/v1/persons/", {"id_type": "resident_id", "id_number": IDN, **body}, format="json")


def test_it_refuses_a_worker_moving_another_communitys_resident_and_writes_nothing(w):
    with time_machine.travel(at(2021, 7, 28, 10), tick=False):
        r = post(w.wb, community="CB", reason="接收")
        assert r.status_code == 404, r.content
        assert person().community.code == "CA"
        assert not AuditEvent.objects.filter(kind="person.changed").exists()
        assert w.wa.get(f"/api/v1/persons/{w.ref}/status/").status_code == 200


def test_it_lets_a_worker_move_their_own_resident_away_with_a_reason_and_audits_it(w):
    with time_machine.travel(at(2021, 7, 28, 10), tick=False):
        missing = post(w.wa, community="CB")
        assert missing.status_code == 400 and "reason" in missing.json()
        assert person().community.code == "CA"
        r = post(w.wa, community="CB", reason="已搬至另一社区")
        assert r.status_code == 200, r.content
        assert person().community.code == "CB"
        event = AuditEvent.objects.get(kind="person.changed")
        assert event.actor.username == "worker_a" and event.reason == "已搬至另一社区"
        assert event.detail["fields"] == ["community"]
        assert event.detail["before"]["community"] == "CA" and event.detail["after"]["community"] == "CB"
        assert event.detail["status_before"]["state"] == event.detail["status_after"]["state"] == "green"
        # Moved away: worker A no longer sees them, worker B does.
        assert w.wa.get(f"/api/v1/persons/{w.ref}/status/").status_code == 404
        assert w.wb.get(f"/api/v1/persons/{w.ref}/status/").status_code == 200


def test_it_lets_a_worker_take_in_a_person_with_no_community_only_when_seen_and_only_into_their_own(w):
    with time_machine.travel(at(2021, 7, 28, 10), tick=False):
        w.person(STRANGER, name="李四")
        body = {"id_type": "resident_id", "id_number": STRANGER, "reason": "常住本社区"}
        # Not seen (no registration or appeal there): 404, nothing written.
        assert w.wa.post("/api/v1/persons/", {**body, "community": "CA"}, format="json").status_code == 404
        registration = {
            "id_type": "resident_id",
            "id_number": STRANGER,
            "community": "CA",
            "arriving_at": iso(2021, 7, 30),
        }
        assert w.gate.post("/api/v1/community-registrations/", registration, format="json").status_code == 201
        # Seen through the registration: into another community, no; into their own, yes.
        assert w.wa.post("/api/v1/persons/", {**body, "community": "CB"}, format="json").status_code == 403
        assert w.wa.post("/api/v1/persons/", {**body, "community": "CA"}, format="json").status_code == 200
        assert Person.objects.get(name="李四").community.code == "CA"


def test_it_refuses_names_and_phones_from_a_community_worker_and_from_the_hotel_and_hotline(w):
    with time_machine.travel(at(2021, 7, 28, 10), tick=False):
        phones = [{"number": PHONE, "channel": "wechat", "bound_at": iso(2021, 7, 1)}]
        assert post(w.wa, name="王大明", reason="更正").status_code == 403
        assert post(w.wa, phones=phones, reason="绑定").status_code == 403
        for c in (w.hotel, w.hotline, w.policy):
            assert post(c, name="王大明", reason="x").status_code == 403
            assert post(c, community="CB", reason="x").status_code == 403
        assert person().name == "王小明" and not Phone.objects.exists()
        assert not AuditEvent.objects.filter(kind="person.changed").exists()


def test_it_lets_the_cdc_correct_phones_with_a_reason_and_recomputes_the_status(w):
    with time_machine.travel(at(2021, 7, 28, 10), tick=False):
        w.designate(RISK_COUNTY, "medium", iso(2021, 7, 20))
        telecom = {
            "source": "telecom",
            "external_id": "T-1",
            "phone": PHONE,
            "area_code": RISK_CITY,
            "precision": "city",
            "arrived_at": iso(2021, 7, 21, 8),
            "departed_at": iso(2021, 7, 22, 8),
        }
        w.feed("stays", telecom)
        assert w.status(IDN)["state"] == "green"
        phones = [{"number": PHONE, "channel": "carrier", "bound_at": iso(2021, 1, 1)}]
        r = post(w.cdc, phones=phones, reason="运营商实名登记核实")
        assert r.status_code == 200, r.content
        event = AuditEvent.objects.get(kind="person.changed")
        assert event.detail["fields"] == ["phones"]
        assert event.detail["before"]["phones"] == [] and event.detail["after"]["phones"][0]["channel"] == "carrier"
        assert event.detail["status_after"]["state"] == "popup"
        assert w.status(IDN)["state"] == "popup"


def test_a_staff_request_never_creates_a_person(w):
    with time_machine.travel(at(2021, 7, 28, 10), tick=False):
        before = Person.objects.count()
        body = {"id_type": "resident_id", "id_number": STRANGER, "community": "CA", "reason": "x"}
        for c in (w.wa, w.cdc):
            assert c.post("/api/v1/persons/", body, format="json").status_code == 404
        assert Person.objects.count() == before
        assert w.gate.get("/api/v1/status/", {"id_type": "resident_id", "id_number": STRANGER}).status_code == 404


def test_a_feed_binding_a_phone_recomputes_the_status(w):
    with time_machine.travel(at(2021, 7, 28, 10), tick=False):
        w.designate(RISK_COUNTY, "medium", iso(2021, 7, 20))
        w.feed(
            "stays",
            {
                "source": "telecom",
                "external_id": "T-2",
                "phone": PHONE,
                "area_code": RISK_CITY,
                "precision": "city",
                "arrived_at": iso(2021, 7, 21, 8),
                "departed_at": iso(2021, 7, 22, 8),
            },
        )
        assert w.status(IDN)["state"] == "green"
        r = post(w.feeds, phones=[{"number": PHONE, "channel": "alipay", "bound_at": iso(2021, 1, 1)}])
        assert r.status_code == 200
        assert w.status(IDN)["state"] == "popup"


def test_an_appeal_never_renames_or_creates_a_person(w):
    with time_machine.travel(at(2021, 7, 28, 10), tick=False):
        body = {
            "person": {"id_type": "resident_id", "id_number": IDN, "name": "改名"},
            "channel": "12345",
            "category": "wrongly_flagged",
            "description": "我没去过",
        }
        assert w.hotline.post("/api/v1/appeals/", body, format="json").status_code == 201
        assert person().name == "王小明"
        unknown = {**body, "person": {"id_type": "resident_id", "id_number": STRANGER}}
        before = Person.objects.count()
        assert w.hotline.post("/api/v1/appeals/", unknown, format="json").status_code == 404
        assert Person.objects.count() == before


def test_a_hotel_check_in_leaves_a_known_name_alone_and_creates_an_unknown_guest_on_purpose(w):
    with time_machine.travel(at(2021, 7, 28, 10), tick=False):
        nat = {"sampled_at": iso(2021, 7, 27, 9), "result": "negative", "at_hotel": False}
        known = {
            "person": {"id_type": "resident_id", "id_number": IDN, "name": "冒名"},
            "checked_in_at": iso(2021, 7, 28, 9),
            "nat": nat,
        }
        assert w.hotel.post("/api/v1/hotel-stays/", known, format="json").status_code == 201
        assert person().name == "王小明"
        assert not AuditEvent.objects.filter(kind="person.created").exists()
        new = {**known, "person": {"id_type": "resident_id", "id_number": STRANGER, "name": "赵六"}}
        assert w.hotel.post("/api/v1/hotel-stays/", new, format="json").status_code == 201
        created = AuditEvent.objects.get(kind="person.created")
        assert created.person.name == "赵六" and created.actor.username == "hotel_1"
