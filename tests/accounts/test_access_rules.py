"""The access layer's rules, kind by kind (SPEC §7 "may see" and "may change"), at their edges:
`visible_to` for persons, hotel stays, appeals, registrations, hotels, orders and popups, and
`may` / `require` on objects. One world, every role; the clock is controlled."""

import datetime as dt

import pytest
import time_machine

from apps.accounts import access
from apps.accounts.models import Organisation, User
from apps.appeals.models import Appeal
from apps.casework.models import CommunityRegistration
from apps.core.errors import NotFoundInJurisdiction, NotPermitted
from apps.evidence.models import ObservationOrder
from apps.hotels.models import HotelStay
from apps.people.models import Person
from apps.status.models import Popup
from tests.api.helpers import RISK_COUNTY, at, iso, rid, stay

RESIDENT_A = rid("11010519900101123")
GUEST = rid("32100319850101002")
CALLER = rid("44030019700101001")
RETURNEE = rid("11010819800101003")
NAT = {"sampled_at": iso(2021, 7, 27, 9), "result": "negative", "at_hotel": False}


@pytest.fixture
def w(world):
    with time_machine.travel(at(2021, 7, 28, 9), tick=False):
        world.personas.build("officer_1", "officer_2", "op_2", "auditor_1")
        world.op1 = world.personas.client("op_1")
        world.person(RESIDENT_A, community="CA")
        world.person(GUEST, name="欧阳明")
        world.person(CALLER, name="陈七")
        world.feed("stays", stay(RESIDENT_A, "G1", RISK_COUNTY, iso(2021, 7, 20, 8), iso(2021, 7, 22, 8)))
        world.designate(RISK_COUNTY, "medium", iso(2021, 7, 28, 0))
        world.status(RESIDENT_A)
        guest = {
            "person": {"id_type": "resident_id", "id_number": GUEST},
            "checked_in_at": iso(2021, 7, 28, 8),
            "nat": NAT,
        }
        r = world.hotel.post("/api/v1/hotel-stays/", guest, format="json")
        assert r.status_code == 201, r.content
        world.hotel_stay = HotelStay.objects.get(pk=r.json()["id"])
        appeal = {
            "person": {"id_type": "resident_id", "id_number": CALLER},
            "channel": "12345",
            "category": "wrongly_flagged",
            "description": "没去过",
        }
        r = world.op1.post("/api/v1/appeals/", appeal, format="json")
        assert r.status_code == 201, r.content
        world.appeal = Appeal.objects.get(pk=r.json()["id"])
        registration = {
            "id_type": "resident_id",
            "id_number": RETURNEE,
            "community": "CB",
            "arriving_at": iso(2021, 7, 30),
        }
        assert world.gate.post("/api/v1/community-registrations/", registration, format="json").status_code == 201
    return world


def user(name: str) -> User:
    return User.objects.get(username=name)


def seen(name: str, model=Person) -> set[str]:
    """The persons (by masked ID's last two characters) whose rows of `model` the user sees."""
    rows = model.objects.all().visible_to(user(name))
    path = "display_id" if model is Person else "person__display_id"
    return {value[-2:] for value in rows.values_list(path, flat=True)}


def tail(idn: str) -> str:
    return idn[-2:]


def test_who_sees_which_person(w):
    with time_machine.travel(at(2021, 7, 28, 10), tick=False):
        everyone = {tail(i) for i in (RESIDENT_A, GUEST, CALLER, RETURNEE)}
        assert seen("cdc_1") == everyone
        assert seen("worker_a") == {tail(RESIDENT_A)}  # residence
        assert seen("worker_b") == {tail(RETURNEE)}  # an open registration there
        assert seen("hotel_1") == {tail(GUEST)}  # a current guest
        assert seen("officer_1") == {tail(GUEST)}  # a guest of a hotel in the district
        assert seen("officer_2") == set()  # another district
        assert seen("op_1") == {tail(CALLER)}  # through the centre's appeal
        assert seen("op_2") == set()  # another centre
        assert seen("policy_1") == seen("auditor_1") == set()


def test_an_appeal_routed_to_a_community_lets_it_see_the_caller_while_open(w):
    with time_machine.travel(at(2021, 7, 28, 10), tick=False):
        r = w.op1.post(
            f"/api/v1/appeals/{w.appeal.pk}/route/", {"routed_to": "CA", "reason": "住在本社区"}, format="json"
        )
        assert r.status_code == 200, r.content
        assert tail(CALLER) in seen("worker_a")
        assert w.appeal.tracking_number in access.why_visible(user("worker_a"), w.appeal.person)
        r = w.wa.post(f"/api/v1/appeals/{w.appeal.pk}/reject/", {"reason": "重复来电"}, format="json")
        assert r.status_code == 200, r.content
        assert tail(CALLER) not in seen("worker_a")


def test_hotel_staff_see_a_past_guest_for_exactly_the_lookback_window(w):
    out = at(2021, 7, 29, 12)
    with time_machine.travel(out, tick=False):
        assert w.hotel.post(f"/api/v1/hotel-stays/{w.hotel_stay.pk}/check-out/", {}, format="json").status_code == 200
    with time_machine.travel(out + dt.timedelta(days=14), tick=False):
        assert seen("hotel_1") == {tail(GUEST)}
        assert seen("officer_1") == set()  # officers see current guests only
    with time_machine.travel(out + dt.timedelta(days=14, seconds=1), tick=False):
        assert seen("hotel_1") == set()
        assert not HotelStay.objects.visible_to(user("hotel_1")).exists()


def test_each_kind_of_record_follows_its_person_or_its_own_rule(w):
    with time_machine.travel(at(2021, 7, 28, 10), tick=False):
        assert seen("worker_a", Popup) == {tail(RESIDENT_A)}
        assert seen("worker_b", Popup) == set()
        assert seen("cdc_1", Popup) == {tail(RESIDENT_A)}
        assert seen("hotel_1", HotelStay) == seen("officer_1", HotelStay) == {tail(GUEST)}
        assert seen("officer_2", HotelStay) == set()
        assert seen("op_1", Appeal) == {tail(CALLER)} and seen("op_2", Appeal) == set()
        assert seen("worker_b", CommunityRegistration) == {tail(RETURNEE)}
        assert seen("worker_a", CommunityRegistration) == set()
        hotels = Organisation.objects.filter(kind="hotel")
        assert list(hotels.visible_to(user("officer_1")).values_list("code", flat=True)) == ["H1"]
        assert not hotels.visible_to(user("officer_2")).exists()
        assert not Person.objects.visible_to(None).exists()


def test_ending_an_order_is_for_the_community_that_started_it_or_the_cdc(w):
    with time_machine.travel(at(2021, 7, 28, 10), tick=False):
        person = Person.objects.get(display_id__endswith=tail(RESIDENT_A))
        r = w.cdc.post("/api/v1/orders/", {"person": person.ref, "kind": "home", "reason": "居家"}, format="json")
        order = ObservationOrder.objects.get(pk=r.json()["id"])
        assert access.may(user("cdc_1"), "order.end", order)
        # Worker A sees the person, but the CDC started the order: refused by rule (403), not 404.
        with pytest.raises(NotPermitted):
            access.require(user("worker_a"), "order.end", order)
        with pytest.raises(NotFoundInJurisdiction):
            access.require(user("worker_b"), "order.end", order)
        with pytest.raises(NotPermitted):  # role first: a hotel clerk learns nothing of the person
            access.require(user("hotel_1"), "order.end", order)


def test_setting_a_community_follows_spec_7(w):
    with time_machine.travel(at(2021, 7, 28, 10), tick=False):
        ca, cb = Organisation.objects.get(code="CA"), Organisation.objects.get(code="CB")
        resident = Person.objects.get(display_id__endswith=tail(RESIDENT_A))
        returnee = Person.objects.get(display_id__endswith=tail(RETURNEE))
        assert access.may(user("worker_a"), "person.set_community", resident, community=cb)  # move away
        assert access.may(user("worker_a"), "person.set_community", resident, community=None)
        assert not access.may(user("worker_b"), "person.set_community", resident, community=cb)  # not seen
        assert access.may(user("worker_b"), "person.set_community", returnee, community=cb)  # take in
        assert not access.may(user("worker_b"), "person.set_community", returnee, community=ca)
        assert access.may(user("cdc_1"), "person.set_community", returnee, community=ca)
        assert not access.may(user("worker_a"), "person.correct", resident)
        assert access.may(user("cdc_1"), "person.correct", resident)
