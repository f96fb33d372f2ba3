"""The restrictions feed never misses a change that commits after a poll (PostgreSQL, where
transactions overlap): a status computed inside a transaction is dated when computed but seen only
when it commits, so `as_of` stays before the start of every transaction still open, and the next
poll (`changed_since=as_of`) brings the change. Real clock: the database's transaction start times
and the portal's clock must agree, as in production."""

import os

import pytest
from django.conf import settings

from apps.core.clock import now
from apps.people.models import Person
from apps.status.models import PersonStatus
from apps.status.restrictions import COMMIT_MARGIN, restrictions_page
from tests.api.helpers import rid
from tests.threads import held_open

POSTGRES = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
pytestmark = pytest.mark.skipif(
    not POSTGRES and os.environ.get("HEALTHKIT_REQUIRE_SERVICES") != "1",
    reason="overlapping transactions need PostgreSQL",
)

IDN = rid("11010519900101123")


def test_a_change_committed_after_a_poll_comes_in_the_next_poll(transactional_db, world):
    ref = world.person(IDN)
    world.status(IDN)
    person = Person.objects.get(ref=ref)

    def recompute_slowly():
        t = now()
        PersonStatus.objects.filter(person=person).update(state="red", state_since=t)
        return t

    with held_open(recompute_slowly) as state_since:
        first = restrictions_page()
        assert [r for r in first.restricted if r["ref"] == ref] == []  # not committed yet
        # Held back before the open transaction: its change, dated inside it, is after `as_of`.
        assert first.as_of < state_since
        assert first.as_of <= now() - COMMIT_MARGIN
    second = restrictions_page(changed_since=first.as_of)
    assert [r["state"] for r in second.restricted if r["ref"] == ref] == ["red"]
    assert second.as_of > first.as_of


def test_a_long_read_only_transaction_does_not_hold_the_feed_back(transactional_db, world):
    def long_report():
        list(PersonStatus.objects.all()[:1])  # reads, never writes: no transaction id
        return now()

    with held_open(long_report) as began:
        assert restrictions_page().as_of > began
