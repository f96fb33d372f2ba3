"""The `lifted` list reads transitions to green in index order and drops those a later change
superseded (apps.status.restrictions._lifted_page): a page is still full and in order when the
superseded ones fill whole batches, and the cursor goes on after the last row listed."""

import datetime as dt

import pytest

from apps.core.clock import now
from apps.people.identity import resident_id_check_char
from apps.people.services import person_ensure
from apps.status.models import PersonStatus, StatusTransition
from apps.status.restrictions import Cursor, Position, restrictions_page
from apps.status.services import status_refresh

pytestmark = pytest.mark.django_db


def person(n: int):
    base = f"11010519900101{n:03d}"
    found, _ = person_ensure(id_type="resident_id", id_number=base + resident_id_check_char(base), name="王")
    status_refresh(person_id=found.pk)
    return found


def test_superseded_transitions_filling_whole_batches_are_skipped_and_the_pages_stay_full():
    t = now() - dt.timedelta(hours=1)
    a, b, c = person(1), person(2), person(3)
    at = [t + dt.timedelta(minutes=m) for m in range(4)]
    t1 = StatusTransition.objects.create(person=a, from_state="popup", to_state="green", at=at[0])  # superseded by t3
    t2 = StatusTransition.objects.create(person=b, from_state="popup", to_state="green", at=at[1])  # b is red again
    t3 = StatusTransition.objects.create(person=a, from_state="popup", to_state="green", at=at[2])
    t4 = StatusTransition.objects.create(person=c, from_state="popup", to_state="green", at=at[3])
    PersonStatus.objects.filter(pk=a.pk).update(state="green", state_since=at[2])
    PersonStatus.objects.filter(pk=b.pk).update(state="red", state_since=at[1] + dt.timedelta(seconds=30))
    PersonStatus.objects.filter(pk=c.pk).update(state="green", state_since=at[3])
    assert t1.pk < t2.pk < t3.pk < t4.pk

    start = Cursor(changed_since=None, as_of=now(), restricted=Position(done=True)).encode()
    first = restrictions_page(cursor=start, page_size=1)  # batches of 2: t1, t2 (none listed), then t3, t4
    assert [r["ref"] for r in first.lifted] == [a.ref]
    assert first.next_cursor is not None
    assert Cursor.decode(first.next_cursor).lifted == Position(at=at[2], id=t3.pk)
    second = restrictions_page(cursor=first.next_cursor, page_size=1)
    assert [r["ref"] for r in second.lifted] == [c.ref]
    assert second.next_cursor is None
    assert [r["ref"] for r in restrictions_page(cursor=start, page_size=5).lifted] == [a.ref, c.ref]
