"""Status through the API: telecom stays, declarations, retroactive designations, stale rows,
proxy look-ups, access."""

import time_machine

from apps.status.models import PersonStatus
from tests.api.helpers import (
    BORDER_COUNTY,
    CASE_COUNTY,
    LOW_COUNTY_SAME_CITY,
    RISK_CITY,
    RISK_COUNTY,
    at,
    iso,
    popups,
    rid,
    stay,
)

IDN = rid("11010519900101123")
PHONE = "13800000000"


def test_a_designation_after_the_person_left_raises_popup_3_with_its_reason(world):
    with time_machine.travel(at(2021, 7, 28, 9), tick=False):
        world.person(IDN)
        world.feed("stays", stay(IDN, "G1", RISK_COUNTY, iso(2021, 7, 20, 8), iso(2021, 7, 22, 8)))
        assert world.status(IDN)["state"] == "green"
        world.designate(RISK_COUNTY, "medium", iso(2021, 7, 28, 0))
        s = world.status(IDN)
    assert s["state"] == "popup" and popups(s) == [3]
    reason = s["reasons"][0]
    assert reason["rule"] == "popup3.risk_county_stay"
    assert {e["kind"] for e in reason["evidence"]} == {"stay", "designation"}
    assert "邗江区" in reason["summary"]
    assert s["popups"][0]["clears"] == "manual_or_auto"


def test_telecom_stays_count_through_a_bound_phone_and_a_declaration_with_a_nat_verifies_them(world):
    phones = [{"number": PHONE, "channel": "wechat", "bound_at": iso(2021, 1, 1), "unbound_at": None}]
    with time_machine.travel(at(2021, 8, 5, 9), tick=False):
        world.person(IDN, phones=phones)
        world.designate(RISK_COUNTY, "high", iso(2021, 8, 1))
        world.feed(
            "stays",
            stay(
                None,
                "T1",
                RISK_CITY,
                iso(2021, 8, 1, 8),
                iso(2021, 8, 1, 12),
                precision="city",
                source="telecom",
                phone=PHONE,
            ),
        )
        s = world.status(IDN)
        assert popups(s) == [3] and s["reasons"][0]["rule"] == "popup3.risk_city_stay"
        declaration = {
            "id_type": "resident_id",
            "id_number": IDN,
            "entered_beijing_at": iso(2021, 8, 2, 10),
            "places": [
                {
                    "area_code": LOW_COUNTY_SAME_CITY,
                    "arrived_at": iso(2021, 8, 1, 7),
                    "departed_at": iso(2021, 8, 1, 13),
                }
            ],
        }
        r = world.gate.post("/api/v1/itinerary-declarations/", declaration, format="json")
        assert r.status_code == 201 and r.json()["state"] == "popup", "no NAT yet: still popup ③"
        world.feed(
            "lab-results",
            {
                "external_id": "L1",
                "id_type": "resident_id",
                "id_number": IDN,
                "sampled_at": iso(2021, 7, 31, 11),
                "result": "negative",
            },
        )
        assert world.status(IDN)["state"] == "green", "NAT 47 h before entry verifies the city stay"


def test_a_stale_row_is_repaired_on_read_after_time_passes(world):
    with time_machine.travel(at(2021, 8, 1, 9), tick=False):
        world.person(IDN)
        port = {"area_code": BORDER_COUNTY, "effective_from": iso(2021, 1, 1), "effective_to": None}
        assert world.policy.post("/api/v1/border-port-counties/", port, format="json").status_code == 201
        world.feed("stays", stay(IDN, "B1", BORDER_COUNTY, iso(2021, 7, 30, 8), iso(2021, 7, 31, 8)))
        assert popups(world.status(IDN)) == [5]
    row = PersonStatus.objects.get(person__display_id__startswith="11")
    assert row.next_change_at is not None
    with time_machine.travel(row.next_change_at, tick=False):
        s = world.status(IDN)
    assert s["state"] == "green"
    assert PersonStatus.objects.get(pk=row.pk).state == "green"


def test_a_local_case_report_raises_popup_1_for_recent_visitors(world):
    with time_machine.travel(at(2021, 8, 1, 9), tick=False):
        world.person(IDN)
        world.feed("stays", stay(IDN, "N1", CASE_COUNTY, iso(2021, 7, 25, 8), iso(2021, 7, 26, 8)))
        world.status(IDN)
        world.feed(
            "local-cases", {"external_id": "jn-0801", "area_code": CASE_COUNTY, "reported_on": "2021-08-01", "count": 3}
        )
        assert popups(world.status(IDN)) == [1]
    with time_machine.travel(at(2021, 8, 8, 23, 59), tick=False):
        assert popups(world.status(IDN)) == [1]
    with time_machine.travel(at(2021, 8, 9, 8, 0, 0, 1), tick=False):
        # the stay left the 14-day window at 2021-08-09 08:00
        assert world.status(IDN)["state"] == "green"


def test_proxy_is_refused_for_adults_and_for_unknown_birth_dates(world):
    adult, child = rid("11010519900101123"), rid("11010520150607789")
    with time_machine.travel(at(2021, 8, 3, 9), tick=False):
        world.person(adult)
        world.person(child)
        assert (
            world.gate.get("/api/v1/status/", {"id_type": "resident_id", "id_number": adult, "proxy": 1}).status_code
            == 403
        )
        assert (
            world.gate.get("/api/v1/status/", {"id_type": "resident_id", "id_number": child, "proxy": 1}).status_code
            == 200
        )
        passport = {"id_type": "passport", "id_number": "E12345678", "name": "John"}
        assert world.feeds.post("/api/v1/persons/", passport, format="json").status_code == 201
        r = world.gate.get("/api/v1/status/", {"id_type": "passport", "id_number": "E12345678", "proxy": 1})
        assert r.status_code == 403


def test_staff_outside_their_jurisdiction_get_404(world):
    with time_machine.travel(at(2021, 8, 3, 9), tick=False):
        ref = world.person(IDN, community="CA")
        assert world.wa.get(f"/api/v1/persons/{ref}/status/").status_code == 200
        assert world.wb.get(f"/api/v1/persons/{ref}/status/").status_code == 404
        assert world.wb.get("/api/v1/status/", {"id_type": "resident_id", "id_number": IDN}).status_code == 404
        assert world.cdc.get(f"/api/v1/persons/{ref}/popups/").status_code == 200


def test_policy_changes_take_effect_at_their_effective_time(world):
    with time_machine.travel(at(2021, 8, 1, 9), tick=False):
        world.person(IDN)
        world.feed(
            "inbound-arrivals",
            {
                "external_id": "in-1",
                "id_type": "resident_id",
                "id_number": IDN,
                "entered_at": iso(2021, 8, 1, 8),
                "port": "PEK",
            },
        )
        assert popups(world.status(IDN)) == [2]
        r = world.policy.put(
            "/api/v1/policy/", {"inbound_quarantine_days": 7, "effective_from": iso(2021, 8, 5)}, format="json"
        )
        assert r.status_code == 200, r.content
        assert world.wa.put("/api/v1/policy/", {"inbound_quarantine_days": 1}, format="json").status_code == 403
    with time_machine.travel(at(2021, 8, 8, 23, 59), tick=False):
        assert popups(world.status(IDN)) == [2]
    with time_machine.travel(at(2021, 8, 9, 0, 0), tick=False):
        assert world.status(IDN)["state"] == "green"
