"""`popups_release` as the admin's bulk release uses it (SPEC §5): one release per popup, one
audit entry per person, persons outside the jurisdiction or with nothing to release skipped."""

import pytest
import time_machine
from django.core.exceptions import ValidationError

from apps.accounts.models import User
from apps.audit.models import AuditEvent
from apps.casework.services import popups_release
from apps.core.errors import NotPermitted
from apps.people.models import Person
from apps.status.models import Release
from tests.api.helpers import RISK_COUNTY, at, iso, rid, stay

CHECKED = {"itinerary_verified": True, "nat_negative": True, "commitment_signed": True}


@pytest.fixture
def three(world):
    """Two residents of CA and one of CB, each with popup ③."""
    with time_machine.travel(at(2021, 7, 28, 9), tick=False):
        ids = [rid(f"1101051990010112{i}") for i in range(3)]
        for n, (idn, community) in enumerate(zip(ids, ["CA", "CA", "CB"], strict=True)):
            world.person(idn, community=community)
            world.feed("stays", stay(idn, f"G{n}", RISK_COUNTY, iso(2021, 7, 20, 8), iso(2021, 7, 22, 8)))
        world.designate(RISK_COUNTY, "high", iso(2021, 7, 28, 0))
        for idn in ids:
            assert world.status(idn)["state"] == "popup"
    return world, list(Person.objects.order_by("pk").values_list("pk", flat=True))


def test_bulk_release_writes_one_audit_entry_per_person_and_skips_the_rest(three):
    world, pids = three
    worker = User.objects.get(username="worker_a")
    with time_machine.travel(at(2021, 7, 28, 10), tick=False):
        outcome = popups_release(actor=worker, person_ids=pids, reason="批量核实", checklist=CHECKED)
        assert sorted(outcome.releases) == pids[:2]
        assert list(outcome.skipped) == [pids[2]]
        assert {s["state"] for s in outcome.statuses.values()} == {"green"}
        # Again: nothing left to release for the first two.
        again = popups_release(actor=worker, person_ids=pids[:2], reason="再次", checklist=CHECKED)
        assert again.releases == {} and sorted(again.skipped) == pids[:2]
    assert Release.objects.count() == 2
    events = AuditEvent.objects.filter(kind="popup.released")
    assert sorted(events.values_list("person_id", flat=True)) == pids[:2]
    assert all(e.detail["status_after"]["state"] == "green" for e in events)


def test_a_release_needs_the_role_the_reason_and_every_checklist_item(three):
    world, pids = three
    hotel = User.objects.get(username="hotel_1")
    cdc = User.objects.get(username="cdc_1")
    with time_machine.travel(at(2021, 7, 28, 10), tick=False):
        with pytest.raises(NotPermitted):
            popups_release(actor=hotel, person_ids=pids, reason="x", checklist=CHECKED)
        with pytest.raises(ValidationError) as error:
            popups_release(actor=cdc, person_ids=pids, reason="x", checklist={**CHECKED, "nat_negative": False})
        assert set(error.value.message_dict) == {"nat_negative"}
        with pytest.raises(ValidationError) as error:
            popups_release(actor=cdc, person_ids=pids, reason=" ", checklist=CHECKED)
        assert set(error.value.message_dict) == {"reason"}
        assert not Release.objects.exists()
        # The CDC releases anyone's popups.
        outcome = popups_release(actor=cdc, person_ids=pids, reason="流调排除", checklist=CHECKED)
    assert sorted(outcome.releases) == pids


def test_a_release_covers_only_what_was_known_and_a_later_record_names_it(three):
    world, pids = three
    worker = User.objects.get(username="worker_a")
    idn = rid("11010519900101120")
    with time_machine.travel(at(2021, 7, 28, 10), tick=False):
        release = popups_release(actor=worker, person_ids=[pids[0]], reason="核实", checklist=CHECKED).releases[
            pids[0]
        ][0]
        # A record learnt later but about an earlier stay: the popup comes back (返弹).
        world.feed("stays", stay(idn, "LATE", RISK_COUNTY, iso(2021, 7, 18, 8), iso(2021, 7, 19, 8), source="air"))
        status = world.status(idn)
    assert status["state"] == "popup"
    reason = next(r for r in status["reasons"] if r.get("popup") == 3)
    assert reason["after_release"] == str(release.pk)
    assert any(e["kind"] == "stay" for e in reason["evidence"])
