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


def test_a_page_reads_a_bounded_number_of_batches_and_its_cursor_goes_on_after_them(monkeypatch):
    """However many superseded transitions lie ahead, a page reads at most LIFTED_SCAN_BATCHES
    batches: it ends short (here empty) with a cursor after the last transition read, and
    following the cursors lists every current transition once, in order."""
    from apps.status import restrictions

    monkeypatch.setattr(restrictions, "LIFTED_SCAN_BATCHES", 1)
    t = now() - dt.timedelta(hours=1)
    a, b = person(1), person(2)
    at = [t + dt.timedelta(minutes=m) for m in range(5)]
    superseded = [
        StatusTransition.objects.create(person=a, from_state="popup", to_state="green", at=at[m]) for m in range(3)
    ]
    last_a = StatusTransition.objects.create(person=a, from_state="popup", to_state="green", at=at[3])
    last_b = StatusTransition.objects.create(person=b, from_state="popup", to_state="green", at=at[4])
    PersonStatus.objects.filter(pk=a.pk).update(state="green", state_since=at[3])
    PersonStatus.objects.filter(pk=b.pk).update(state="green", state_since=at[4])

    start = Cursor(changed_since=None, as_of=now(), restricted=Position(done=True)).encode()
    first = restrictions_page(cursor=start, page_size=1)  # one batch of 2: two superseded, none listed
    assert first.lifted == [] and first.next_cursor is not None
    assert Cursor.decode(first.next_cursor).lifted == Position(at=at[1], id=superseded[1].pk)
    refs, cursor, pages = [], first.next_cursor, 1
    while cursor is not None:
        page = restrictions_page(cursor=cursor, page_size=1)
        refs += [r["ref"] for r in page.lifted]
        cursor, pages = page.next_cursor, pages + 1
        assert pages < 10
    assert refs == [a.ref, b.ref]
    assert last_a.pk < last_b.pk
