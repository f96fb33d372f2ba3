"""Hotel check-in and check-out (SPEC §4, API.md `POST /api/v1/hotel-stays/`): a valid NAT
verifies the guest's city-precision stays and satisfies popup ④; nothing else is cleared; what
was verified stays verified after check-out."""

import datetime as dt

import pytest
import time_machine

from apps.audit.models import AuditEvent
from apps.evidence.models import Ingestion, ItineraryDeclaration, LabResult, Stay
from apps.hotels.models import HotelStay
from tests.api.helpers import BORDER_COUNTY, RISK_CITY, RISK_COUNTY, at, iso, popups, rid, stay

IDN = rid("32100319900101123")
PHONE = "13900000000"
CHECK_IN = at(2021, 8, 5, 14)


def check_in(c, idn=IDN, checked_in_at=CHECK_IN, nat=None, name="李四"):
    body = {
        "person": {"id_type": "resident_id", "id_number": idn, "name": name},
        "checked_in_at": checked_in_at.isoformat(),
    }
    if nat is not None:
        body["nat"] = nat
    # English answers (the messages are translated; these tests read the English source).
    return c.post("/api/v1/hotel-stays/", body, format="json", HTTP_ACCEPT_LANGUAGE="en")


def nat(sampled_at, result="negative", at_hotel=False):
    return {"sampled_at": sampled_at.isoformat(), "result": result, "at_hotel": at_hotel}


@pytest.fixture
def starred(hotels):
    """A traveller whose telecom itinerary shows a city-precision stay in a "starred" city (one
    containing a high-risk county): popup ③(b)."""
    w = hotels
    phones = [{"number": PHONE, "channel": "wechat", "bound_at": iso(2021, 1, 1), "unbound_at": None}]
    with time_machine.travel(at(2021, 8, 5, 9), tick=False):
        w.person(IDN, name="李四", phones=phones)
        w.designate(RISK_COUNTY, "high", iso(2021, 8, 1))
        telecom = stay(
            None,
            "T1",
            RISK_CITY,
            iso(2021, 8, 1, 8),
            iso(2021, 8, 1, 14),
            precision="city",
            source="telecom",
            phone=PHONE,
        )
        w.feed("stays", telecom)
        assert popups(w.status(IDN)) == [3]
    return w


@pytest.mark.parametrize(
    ("sampled_at", "verified"),
    [
        (CHECK_IN - dt.timedelta(days=7), True),
        (CHECK_IN - dt.timedelta(days=7, minutes=1), False),
        (CHECK_IN - dt.timedelta(hours=30), True),
    ],
    ids=["exactly-7-days", "7-days-and-a-minute", "30-hours"],
)
def test_it_verifies_a_starred_city_stay_with_a_nat_sampled_within_7_days(starred, sampled_at, verified):
    w = starred
    with time_machine.travel(at(2021, 8, 5, 14, 5), tick=False):
        r = check_in(w.hotel, nat=nat(sampled_at))
        assert r.status_code == 201, r.content
        body = r.json()
        assert body["verified"] is verified
        assert body["status"]["state"] == ("green" if verified else "popup")
        assert w.status(IDN)["state"] == ("green" if verified else "popup")
        if not verified:
            assert "nothing is verified" in body["message"]
    hotel_stay = HotelStay.objects.get()
    # The guest is registered either way: a county stay at the hotel, from check-in.
    assert hotel_stay.stay.source == "hotel" and hotel_stay.stay.area_id == "110105"
    assert hotel_stay.stay.precision == "county" and hotel_stay.stay.arrived_at == CHECK_IN
    assert (hotel_stay.declaration is not None) is verified
    assert not LabResult.objects.exists(), "a certificate seen is not a hotel test"
    ingestion = Ingestion.objects.get(feed="hotel-stays")
    assert ingestion.submitted_by.username == "hotel_1"
    assert hotel_stay.stay.ingestion_id == ingestion.pk
    event = AuditEvent.objects.get(kind="hotel.checked_in")
    assert event.actor.username == "hotel_1" and event.detail["verified"] is verified
    assert event.detail["status_before"]["state"] == "popup"


def test_a_negative_test_at_the_hotel_verifies_and_is_stored_as_a_lab_result(starred):
    w = starred
    with time_machine.travel(at(2021, 8, 5, 18), tick=False):
        r = check_in(w.hotel, nat=nat(at(2021, 8, 5, 14, 10), at_hotel=True))
        assert r.status_code == 201, r.content
        assert r.json()["verified"] and r.json()["status"]["state"] == "green"
    lab = LabResult.objects.get()
    assert (lab.source, lab.result, lab.institution, lab.origin) == ("hotel", "negative", "测试酒店", "staff")
    assert HotelStay.objects.get().nat == lab
    assert ItineraryDeclaration.objects.get(source="hotel").nat == lab


def test_a_positive_test_at_the_hotel_is_recorded_and_verifies_nothing(starred):
    w = starred
    with time_machine.travel(at(2021, 8, 5, 18), tick=False):
        r = check_in(w.hotel, nat=nat(at(2021, 8, 5, 14, 10), result="positive", at_hotel=True))
        assert r.status_code == 201 and not r.json()["verified"]
        assert r.json()["status"]["state"] == "popup"
    assert LabResult.objects.get().result == "positive"
    assert not ItineraryDeclaration.objects.filter(source="hotel").exists()


def test_a_check_in_without_a_nat_registers_the_guest_and_says_nothing_is_verified(starred):
    w = starred
    with time_machine.travel(at(2021, 8, 5, 14, 5), tick=False):
        r = check_in(w.hotel)
        assert r.status_code == 201
        body = r.json()
    assert body["verified"] is False and body["nat"] is None
    assert "without a NAT" in body["message"]
    assert body["status"]["state"] == "popup"
    assert HotelStay.objects.get().stay is not None


def test_a_valid_check_in_satisfies_popup_4_whenever_the_test_was_sampled(hotels):
    w = hotels
    with time_machine.travel(at(2021, 8, 1, 9), tick=False):
        w.person(IDN)
        w.feed(
            "health-events",
            {
                "external_id": "E1",
                "id_type": "resident_id",
                "id_number": IDN,
                "kind": "beijing_entry",
                "occurred_at": iso(2021, 8, 1, 8),
                "detail": "G1",
            },
        )
    with time_machine.travel(at(2021, 8, 5, 14), tick=False):
        assert popups(w.status(IDN)) == [4]
        # Sampled before the entry — it would not clear ④ by itself — but within 7 days of check-in.
        r = check_in(w.hotel, checked_in_at=at(2021, 8, 5, 14), nat=nat(at(2021, 7, 31, 10)))
        assert r.status_code == 201 and r.json()["verified"]
        assert w.status(IDN)["state"] == "green"


def test_a_hotel_cannot_clear_popups_1_2_5_a_risk_county_stay_associations_or_observation(hotels):
    w = hotels
    with time_machine.travel(at(2021, 8, 5, 14, 5), tick=False):
        w.person(IDN)
        port = {"area_code": BORDER_COUNTY, "effective_from": iso(2021, 1, 1), "effective_to": None}
        assert w.policy.post("/api/v1/border-port-counties/", port, format="json").status_code == 201
        w.designate(RISK_COUNTY, "medium", iso(2021, 8, 1))
        w.feed(
            "stays",
            stay(IDN, "B1", BORDER_COUNTY, iso(2021, 7, 30, 8), iso(2021, 7, 31, 8)),
            stay(IDN, "G1", RISK_COUNTY, iso(2021, 8, 1, 8), iso(2021, 8, 2, 8)),
        )
        w.feed(
            "inbound-arrivals",
            {
                "external_id": "IN1",
                "id_type": "resident_id",
                "id_number": IDN,
                "entered_at": iso(2021, 7, 25, 10),
                "port": "PEK",
            },
        )
        w.feed(
            "local-cases", {"external_id": "LC1", "area_code": BORDER_COUNTY, "reported_on": "2021-08-01", "count": 1}
        )
        w.feed(
            "associations",
            {
                "external_id": "X1",
                "id_type": "resident_id",
                "id_number": IDN,
                "kind": "epidemiological",
                "observed_at": iso(2021, 8, 3, 9),
            },
        )
        before = popups(w.status(IDN))
        assert before == [1, 2, 3, 5]
        r = check_in(w.hotel, nat=nat(at(2021, 8, 5, 13), at_hotel=True))
        assert r.status_code == 201 and r.json()["verified"]
        assert popups(r.json()["status"]) == before
        assert "does not clear" in r.json()["message"]
        r = w.cdc.post(
            "/api/v1/orders/",
            {
                "person": r.json()["person"],
                "kind": "centralized",
                "reason": "密接",
            },
            format="json",
        )
        assert r.status_code == 201
        assert w.status(IDN)["state"] == "red"


def test_what_a_check_in_verified_stays_verified_after_check_out(starred):
    w = starred
    with time_machine.travel(at(2021, 8, 5, 14, 5), tick=False):
        r = check_in(w.hotel, nat=nat(at(2021, 8, 4, 10)))
        assert r.status_code == 201 and r.json()["verified"]
        stay_id = r.json()["id"]
    with time_machine.travel(at(2021, 8, 7, 11), tick=False):
        r = w.hotel.post(f"/api/v1/hotel-stays/{stay_id}/check-out/", {}, format="json")
        assert r.status_code == 200, r.content
        assert r.json()["checked_out_at"] == at(2021, 8, 7, 11).isoformat()
        assert r.json()["status"]["state"] == "green"
        assert w.hotel.post(f"/api/v1/hotel-stays/{stay_id}/check-out/", {}, format="json").status_code == 409
    with time_machine.travel(at(2021, 8, 9, 11), tick=False):
        assert w.status(IDN)["state"] == "green"
    hotel_stay = HotelStay.objects.get()
    assert hotel_stay.checked_out_by.username == "hotel_1"
    assert Stay.objects.get(source="hotel").departed_at == at(2021, 8, 7, 11)
    assert hotel_stay.declaration is not None
    assert AuditEvent.objects.filter(kind="hotel.checked_out", actor__username="hotel_1").count() == 1


def test_bad_input_is_refused_with_field_errors(hotels):
    w = hotels
    bad_id = IDN[:-1] + ("0" if IDN[-1] != "0" else "1")
    with time_machine.travel(at(2021, 8, 5, 14), tick=False):
        r = check_in(w.hotel, idn=bad_id)
        assert r.status_code == 400 and "id_number" in r.json()
        r = check_in(w.hotel, checked_in_at=at(2021, 8, 5, 16))
        assert r.status_code == 400 and "checked_in_at" in r.json()
        r = check_in(w.hotel, nat={"sampled_at": iso(2021, 8, 5, 9), "result": "unknown"})
        assert r.status_code == 400
        assert check_in(w.hotel).status_code == 201
        assert check_in(w.hotel).status_code == 409, "already checked in here"
        stay_id = HotelStay.objects.get().pk
        r = w.hotel.post(
            f"/api/v1/hotel-stays/{stay_id}/check-out/", {"checked_out_at": iso(2021, 8, 5, 13)}, format="json"
        )
        assert r.status_code == 400 and "checked_out_at" in r.json()
    assert HotelStay.objects.count() == 1


def test_two_desks_checking_in_the_same_guest_at_once_keep_one_open_stay(hotels):
    """The check for an open stay and the insert are not atomic against another desk: the
    database's partial unique constraint answers the second desk 409, and nothing of its
    check-in is kept."""
    from unittest import mock

    w = hotels
    with time_machine.travel(at(2021, 8, 5, 14), tick=False):
        assert check_in(w.hotel).status_code == 201
        counts = (Ingestion.objects.count(), Stay.objects.count(), AuditEvent.objects.count())
        # The other desk's check ran before the first insert committed: it saw no open stay.
        with mock.patch.object(HotelStay.objects, "select_for_update") as racing:
            racing.return_value.filter.return_value.exists.return_value = False
            r = check_in(w.hotel)
        assert racing.called
        assert r.status_code == 409 and r.json()["detail"]
    assert HotelStay.objects.filter(checked_out_at__isnull=True).count() == 1
    assert (Ingestion.objects.count(), Stay.objects.count(), AuditEvent.objects.count()) == counts
