"""The restrictions feed never misses a change that commits after a poll (PostgreSQL, where
transactions overlap): a status computed inside a transaction is dated when computed but seen only
when it commits, so `as_of` stays before the start of every transaction still open, and the next
poll (`changed_since=as_of`) brings the change. Real clock: the database's transaction start times
and the portal's clock must agree, as in production."""

import os
import threading

import pytest
from django.conf import settings
from django.db import connection, transaction

from apps.core.clock import now
from apps.people.models import Person
from apps.status.models import PersonStatus
from apps.status.restrictions import COMMIT_MARGIN, restrictions_page
from tests.api.helpers import rid

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
    began, go_on, stamped = threading.Event(), threading.Event(), {}

    def recompute_slowly():
        try:
            with transaction.atomic():
                stamped["began"] = now()
                t = now()
                PersonStatus.objects.filter(person=person).update(state="red", state_since=t)
                stamped["state_since"] = t
                began.set()
                assert go_on.wait(20)
        finally:
            connection.close()

    writer = threading.Thread(target=recompute_slowly)
    writer.start()
    try:
        assert began.wait(20)
        first = restrictions_page()
        assert [r for r in first.restricted if r["ref"] == ref] == []  # not committed yet
        # Held back before the open transaction: its change, dated inside it, is after `as_of`.
        assert first.as_of < stamped["state_since"]
        assert first.as_of <= now() - COMMIT_MARGIN
    finally:
        go_on.set()
        writer.join(20)
    second = restrictions_page(changed_since=first.as_of)
    assert [r["state"] for r in second.restricted if r["ref"] == ref] == ["red"]
    assert second.as_of > first.as_of


def test_a_long_read_only_transaction_does_not_hold_the_feed_back(transactional_db, world):
    began, go_on, stamped = threading.Event(), threading.Event(), {}

    def long_report():
        try:
            with transaction.atomic():
                list(PersonStatus.objects.all()[:1])  # reads, never writes: no transaction id
                stamped["began"] = now()
                began.set()
                assert go_on.wait(20)
        finally:
            connection.close()

    reader = threading.Thread(target=long_report)
    reader.start()
    try:
        assert began.wait(20)
        page = restrictions_page()
        assert page.as_of > stamped["began"]
    finally:
        go_on.set()
        reader.join(20)
