"""The materialised status: refresh, read-repair, fan-out, sweep, transitions and episodes."""

import datetime as dt

import time_machine

from apps.evidence.services import feed_ingest
from apps.people.identity import resident_id_check_char
from apps.people.services import PhoneInput, person_upsert
from apps.policy.services import border_port_publish, risk_designation_publish
from apps.status.models import PersonStatus, Popup, StatusTransition
from apps.status.services import persons_with_stays_in, status_current, status_refresh, status_sweep
from tests.api.helpers import at


def rid(first17: str) -> str:
    return first17 + resident_id_check_char(first17)


def make_person(n: int, phone: str | None = None):
    phones = [PhoneInput(phone, "alipay", at(2021, 1, 1))] if phone else []
    person, _ = person_upsert(
        id_type="resident_id", id_number=rid(f"11010519900101{n:03d}"), name="李雷", phones=phones
    )
    return person


def rail(person, ext, area, arrived, departed):
    return {
        "source": "rail",
        "external_id": ext,
        "id_type": "resident_id",
        "id_number": rid(f"11010519900101{person:03d}"),
        "area_code": area,
        "precision": "county",
        "arrived_at": arrived.isoformat(),
        "departed_at": departed.isoformat() if departed else None,
    }


def test_it_finds_affected_persons_set_based_through_stays_and_phones(areas):
    with time_machine.travel(at(2021, 8, 1, 9), tick=False):
        a, b, c = make_person(1), make_person(2, phone="13900000002"), make_person(3)
        feed_ingest(feed="stays", records=[rail(1, "r1", "321003", at(2021, 7, 25), at(2021, 7, 26))])
        feed_ingest(
            feed="stays",
            records=[
                {
                    "source": "telecom",
                    "external_id": "t1",
                    "phone": "13900000002",
                    "area_code": "321000",
                    "precision": "city",
                    "arrived_at": at(2021, 7, 25).isoformat(),
                    "departed_at": at(2021, 7, 26).isoformat(),
                }
            ],
        )
        feed_ingest(feed="stays", records=[rail(3, "r3", "321003", at(2021, 7, 1), at(2021, 7, 2))])
        found = set(persons_with_stays_in(county_codes=["321003"], since=at(2021, 7, 18, 9)))
    assert found == {a.pk, b.pk}, "a county stay and a telecom stay in its city; not the stay that left the window"
    assert c.pk not in found


def test_a_designation_marks_rows_dirty_so_no_read_is_stale(areas):
    with time_machine.travel(at(2021, 8, 1, 9), tick=False):
        person = make_person(1)
        feed_ingest(feed="stays", records=[rail(1, "r1", "321003", at(2021, 7, 25), at(2021, 7, 26))])
        assert status_refresh(person_id=person.pk).state == "green"
        risk_designation_publish(actor=None, area_code="321003", level="high", effective_from=at(2021, 8, 1))
        assert PersonStatus.objects.get(pk=person.pk).dirty_since is not None
        row = status_current(person_id=person.pk)
    assert row.state == "popup" and row.dirty_since is None
    transition = StatusTransition.objects.get(person=person)
    assert (transition.from_state, transition.to_state) == ("green", "popup")


def test_the_sweep_recomputes_only_due_rows_and_dates_the_change_when_it_was_due(areas):
    with time_machine.travel(at(2021, 8, 1, 9), tick=False):
        border_port_publish(actor=None, area_code="533102", effective_from=at(2021, 1, 1))
        due, idle = make_person(1), make_person(2)
        feed_ingest(feed="stays", records=[rail(1, "b1", "533102", at(2021, 7, 20), at(2021, 7, 21, 8))])
        status_refresh(person_id=due.pk)
        status_refresh(person_id=idle.pk)
    row = PersonStatus.objects.get(pk=due.pk)
    assert row.state == "popup" and row.next_change_at == at(2021, 8, 4, 8) + dt.timedelta(microseconds=1)
    with time_machine.travel(at(2021, 8, 4, 8, 1), tick=False):
        assert status_sweep() == 1, "only the row past its next_change_at is recomputed"
    row.refresh_from_db()
    assert row.state == "green"
    first, cleared = StatusTransition.objects.filter(person=due).order_by("at", "id")
    assert (first.from_state, first.to_state, first.at) == ("green", "popup", at(2021, 8, 1, 9))
    assert (cleared.to_state, cleared.at) == ("green", at(2021, 8, 4, 8) + dt.timedelta(microseconds=1))
    episode = Popup.objects.get(person=due)
    assert episode.number == 5 and episode.ended_by == "auto"


def test_a_late_recomputation_never_overwrites_a_newer_result(areas):
    with time_machine.travel(at(2021, 8, 2, 9), tick=False):
        person = make_person(1)
        newer = status_refresh(person_id=person.pk)
    with time_machine.travel(at(2021, 8, 1, 9), tick=False):
        stale = status_refresh(person_id=person.pk)
    assert stale.computed_at == newer.computed_at == at(2021, 8, 2, 9)
