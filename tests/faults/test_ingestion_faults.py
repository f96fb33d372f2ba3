"""Faults during feed ingestion, run everywhere (SQLite or PostgreSQL, tasks in-process): the
broker unreachable when the batch commits, the database failing in the middle of a batch, a
recomputation task hit by a database error. What the API accepted (2xx) is in the database, a
batch is all or nothing, a partner's re-send is stored once, and the statuses end right."""

import datetime as dt
import logging

import pytest
import time_machine
from django.db import OperationalError

from apps.evidence import services as evidence_services
from apps.evidence.models import InboundArrival, Ingestion, ObservationOrder
from apps.people.models import Person
from apps.status import services as status_services
from apps.status.models import PersonStatus
from apps.status.services import status_sweep
from apps.status.tasks import recompute_persons
from tests.api.helpers import at

from .conftest import (
    assert_transitions_once,
    effects,
    expected_statuses,
    idn,
    population_records,
    stored_statuses,
)
from .helpers import UNREACHABLE_BROKER, broker_use

T = at(2021, 8, 2, 10)
PERSONS = 30


def post_population(api, *, prefix: str = "p") -> dict[str, dict]:
    answers = {}
    for feed, records in population_records(PERSONS, T, prefix=prefix).items():
        r = api.post(f"/api/v1/feeds/{feed}/", {"records": records}, format="json")
        answers[feed] = {"status": r.status_code, "body": r.json(), "headers": r.headers}
    return answers


def all_ids() -> list[int]:
    return sorted(Person.objects.values_list("pk", flat=True))


def assert_statuses_right() -> dict:
    ids = all_ids()
    assert len(ids) == PERSONS
    assert not PersonStatus.objects.filter(dirty_since__isnull=False).exists()
    expected = expected_statuses(ids, T)
    assert stored_statuses(ids) == expected
    assert_transitions_once(expected)
    return expected


@pytest.fixture
def clock():
    with time_machine.travel(T, tick=False) as traveller:
        yield traveller


def test_a_batch_accepted_while_the_broker_is_down_is_kept_and_the_sweep_recomputes_it(
    transactional_db, partner, celery_app, clock, caplog, monkeypatch
):
    """The tasks are enqueued after the batch has committed: the broker refusing them must not
    turn the accepted batch into a 500. The persons stay marked dirty (read-repair serves them
    right meanwhile) and the sweep recomputes them once the broker is back."""
    monkeypatch.setattr(status_services, "CHUNK", 8)  # several tasks per batch: one failed attempt
    broker_use(celery_app, UNREACHABLE_BROKER)
    with caplog.at_level(logging.WARNING, logger="apps.status.services"):
        answers = post_population(partner.feeds)
    for feed, answer in answers.items():
        assert answer["status"] == 200, (feed, answer["body"])
        assert answer["body"]["accepted"] > 0 and answer["body"]["rejected"] == []
    assert InboundArrival.objects.count() + ObservationOrder.objects.count() == PERSONS
    assert PersonStatus.objects.filter(dirty_since__isnull=False).count() == PERSONS, "all marked dirty"
    assert PersonStatus.objects.filter(version=0).count() == PERSONS, "nothing ran: no task reached a worker"
    assert "sweep" in caplog.text, "the lost enqueue is logged"
    unreached = [r for r in caplog.records if r.name == "apps.status.services"]
    assert len(unreached) == len(answers), "one failed attempt per batch, not one per chunk"

    broker_use(celery_app, "")  # the broker is back (here: tasks run in-process)
    assert status_sweep() == PERSONS
    assert_statuses_right()
    r = partner.gate.get("/api/v1/status/", {"id_type": "resident_id", "id_number": idn(1)})
    assert r.status_code == 200 and r.json()["state"] == "red"


def test_a_database_error_mid_batch_answers_503_and_keeps_nothing_then_the_resend_is_stored_once(
    transactional_db, partner, clock, monkeypatch
):
    original = evidence_services.records_insert
    failures = []

    def fails_once(model, rows, t):
        if not failures:
            failures.append(model)
            raise OperationalError("server closed the connection unexpectedly")
        return original(model, rows, t)

    monkeypatch.setattr(evidence_services, "records_insert", fails_once)
    records = population_records(PERSONS, T)["observation-orders"]
    r = partner.feeds.post("/api/v1/feeds/observation-orders/", {"records": records}, format="json")
    assert r.status_code == 503, r.content
    assert r.headers["Retry-After"].isdigit()
    assert set(r.json()) == {"detail"} and "server closed" not in r.json()["detail"], "no internals leak"
    assert failures == [ObservationOrder]
    # All or nothing: not the batch as received, nor the persons it created, nor any record.
    assert (Ingestion.objects.count(), Person.objects.count(), ObservationOrder.objects.count()) == (0, 0, 0)
    assert not PersonStatus.objects.exists()

    # The partner sends the same batch again: once stored, then a duplicate of itself.
    r = partner.feeds.post("/api/v1/feeds/observation-orders/", {"records": records}, format="json")
    assert r.status_code == 200 and r.json()["accepted"] == len(records)
    counts = effects()
    r = partner.feeds.post("/api/v1/feeds/observation-orders/", {"records": records}, format="json")
    assert r.status_code == 200
    assert (r.json()["accepted"], r.json()["duplicates"], r.json()["updated"]) == (0, len(records), 0)
    assert effects() == counts, "a re-sent batch writes no record, history row, transition or popup again"
    assert Ingestion.objects.count() == 2, "each batch received is kept as received, the failed one is not"
    assert sorted(ObservationOrder.objects.values_list("external_id", flat=True)) == sorted(
        rec["external_id"] for rec in records
    )
    r = partner.feeds.post(
        "/api/v1/feeds/inbound-arrivals/",
        {"records": population_records(PERSONS, T)["inbound-arrivals"]},
        format="json",
    )
    assert r.status_code == 200
    assert_statuses_right()


def test_a_recomputation_hit_by_a_database_error_retries_and_ends_right(transactional_db, clock, monkeypatch):
    monkeypatch.setattr(status_services, "_schedule", lambda ids: None)  # recomputed below, by hand
    for feed, records in population_records(PERSONS, T).items():
        evidence_services.feed_ingest(feed=feed, records=records)
    original = status_services.persons_facts
    calls = []

    def fails_once(ids, t):
        calls.append(list(ids))
        if len(calls) == 1:
            raise OperationalError("terminating connection due to administrator command")
        return original(ids, t)

    monkeypatch.setattr(status_services, "persons_facts", fails_once)
    # throw=False: as in a worker, the task's Retry is not raised to the caller but run (here at
    # once, in-process; a worker runs it after the back-off).
    result = recompute_persons.apply(args=[all_ids()], throw=False)
    assert result.successful() and result.get() == PERSONS
    assert len(calls) == 2, "the task failed once and was retried"
    assert_statuses_right()


def test_retries_and_redeliveries_have_no_double_effects(transactional_db, partner, clock):
    """The same recomputation run again, the same task delivered twice (acks_late redelivery after
    a lost acknowledgement), the same batch re-sent: no transition, popup episode, history row,
    audit event or restrictions-feed change is written twice."""
    answers = post_population(partner.feeds)
    assert {a["status"] for a in answers.values()} == {200}
    expected = assert_statuses_right()
    restrictions = partner.gate.get("/api/v1/restrictions/").json()
    assert len(restrictions["restricted"]) == PERSONS and restrictions["lifted"] == []
    counts, rows = effects(), stored_statuses(all_ids())

    clock.shift(dt.timedelta(minutes=5))
    ids = all_ids()
    recompute_persons.apply(args=[ids], task_id="redelivered")
    recompute_persons.apply(args=[ids], task_id="redelivered")
    recompute_persons.apply(args=[ids[:7]])
    assert status_sweep() == 0
    resent = post_population(partner.feeds)
    for answer in resent.values():
        assert answer["body"]["accepted"] == 0 and answer["body"]["duplicates"] > 0

    assert stored_statuses(ids) == rows
    assert_transitions_once(expected)
    assert effects() == counts
    assert partner.gate.get("/api/v1/restrictions/").json()["restricted"] == restrictions["restricted"]
