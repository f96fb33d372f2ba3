"""The bulk write path of a feed batch (issue 17): plain rows with their history rows, the persons
marked dirty by one upsert inside the batch's transaction and their recomputation sent after it
commits, and a number of queries that does not grow with the batch."""

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.origin import Origin
from apps.evidence.models import Stay
from apps.people.models import Person
from apps.people.services import person_upsert
from apps.status import services as status_services
from apps.status.models import PersonStatus
from apps.status.services import status_mark_dirty, status_refresh
from tests.api.helpers import CHAOYANG, RISK_CITY, RISK_COUNTY, at, iso, rid, stay

T = at(2021, 8, 3, 9)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(T, tick=False) as traveller:
        yield traveller


def idn(n: int) -> str:
    return rid(f"110105199001{n // 28 + 1:02d}{n % 28 + 1:02d}" + f"{n % 1000:03d}"[:1])


def records(count: int, tag: str) -> list[dict]:
    return [
        stay(idn(n), f"{tag}-{n}", RISK_COUNTY, iso(2021, 8, 1, 8), iso(2021, 8, 1, 18) if n % 3 else None)
        for n in range(count)
    ]


def test_status_mark_dirty_creates_the_missing_rows_and_marks_the_known_in_one_statement(
    db, clock, django_capture_on_commit_callbacks, monkeypatch
):
    known, fresh = person_upsert(id_type="resident_id", id_number=idn(1))[0], None
    computed = status_refresh(person_id=known.pk)
    assert computed.dirty_since is None and computed.version == 1
    fresh = person_upsert(id_type="resident_id", id_number=idn(2))[0]
    PersonStatus.objects.filter(pk=fresh.pk).delete()
    sent = []
    monkeypatch.setattr(status_services, "_enqueue", sent.append)
    clock.shift(dt.timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True) as callbacks, CaptureQueriesContext(connection) as queries:
        assert status_mark_dirty(person_ids=[fresh.pk, known.pk, fresh.pk]) == sorted([known.pk, fresh.pk])
    assert len(queries) == 1, [q["sql"] for q in queries]
    assert "ON CONFLICT" in queries[0]["sql"]
    assert len(callbacks) == 1 and sent == [[sorted([known.pk, fresh.pk])]], "sent once, after the commit"
    t = T + dt.timedelta(minutes=5)
    row = PersonStatus.objects.get(pk=known.pk)
    assert (row.dirty_since, row.version, row.computed_at, row.state) == (t, 1, computed.computed_at, computed.state)
    new = PersonStatus.objects.get(pk=fresh.pk)
    assert (new.dirty_since, new.computed_at, new.valid_until, new.state_since) == (t, t, t, t)
    assert (new.version, new.state, new.popups, new.reasons, new.next_change_at) == (0, "green", [], [], None)
    assert status_mark_dirty(person_ids=[]) == []


def test_status_mark_dirty_pages_a_large_marking(db, monkeypatch):
    persons = [person_upsert(id_type="resident_id", id_number=idn(n))[0].pk for n in range(7)]
    PersonStatus.objects.all().delete()
    monkeypatch.setattr(status_services, "MARK_PAGE", 3)
    with CaptureQueriesContext(connection) as queries:
        status_mark_dirty(person_ids=persons)
    assert len(queries) == 3
    assert PersonStatus.objects.filter(dirty_since=T).count() == 7


def test_a_batch_writes_plain_rows_with_their_history_by_the_partner_from_the_api(world):
    body = world.feed(
        "stays",
        *records(3, "h"),
        stay(None, "t-1", RISK_CITY, iso(2021, 8, 1, 8), None, precision="city", source="telecom", phone="13800138000"),
    )
    assert (body["accepted"], body["rejected"]) == (4, [])
    partner = world.personas.user("feeds-partner")
    for s in Stay.objects.all():
        history = list(s.history.all())
        assert [(h.history_type, h.history_user_id, h.history_origin) for h in history] == [
            ("+", partner.pk, Origin.API)
        ]
        assert (history[0].area_id, history[0].arrived_at, history[0].content_hash) == (
            s.area_id,
            s.arrived_at,
            s.content_hash,
        )
        assert s.ingestion_id and s.ingested_at == T and s.origin == "feed"
    telecom = Stay.objects.get(external_id="t-1")
    assert telecom.person_id is None and len(telecom.phone_hash) == 64
    assert PersonStatus.objects.filter(dirty_since__isnull=False).count() in (0, 3), "marked, then recomputed eagerly"


def test_a_batch_takes_as_many_queries_for_ten_records_as_for_a_hundred(world):
    for n in range(100):
        person_upsert(id_type="resident_id", id_number=idn(n))
    world.feed("stays", *records(1, "warm"))  # the partner's first request reads its token's grants once
    counts = []
    for size, tag in ((10, "small"), (100, "large")):
        with CaptureQueriesContext(connection) as queries:
            assert world.feed("stays", *records(size, tag))["accepted"] == size
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert Person.objects.count() == 100


def test_a_changed_resend_updates_and_a_same_resend_is_a_duplicate(world):
    first = records(4, "u")
    world.feed("stays", *first)
    changed = [dict(first[0], area_code=CHAOYANG), *first[1:]]
    body = world.feed("stays", *changed)
    assert (body["accepted"], body["updated"], body["duplicates"]) == (0, 1, 3)
    s = Stay.objects.get(external_id="u-0")
    assert s.area_id == CHAOYANG
    assert [h.history_type for h in s.history.order_by("history_id")] == ["+", "~"]
