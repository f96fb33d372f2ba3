"""Faults around a real Celery worker (prefork or solo pool, the test broker, the PostgreSQL test
database): the worker or its pool child killed in the middle of a recomputation batch (the task
delivered again within a minute), the database connection of a running task dropped. Afterwards no status is wrong, no person is left
dirty, and no transition or popup episode is written twice.

`tests.faults.worker_hooks` holds one chunk's transaction open after its writes, just before the
commit, so the fault always hits a recomputation in flight."""

import os
import signal
import time

from django.db import connection

from apps.core.clock import now
from apps.evidence.services import feed_ingest
from apps.status import services
from apps.status.models import PersonStatus
from apps.status.tasks import recompute_persons, sweep_due

from .conftest import assert_transitions_once, effects, expected_statuses, population_records, stored_statuses
from .helpers import BROKER, marker_read, needs_services, wait_until

pytestmark = needs_services

PERSONS = 240
CHUNK = 40  # 240 persons: 6 recomputation tasks (2 for the arrivals, 4 for the orders)


def ingest_population(monkeypatch) -> list[int]:
    """Ingest the population's feeds; each batch marks its persons dirty and, once committed,
    sends their recomputation to the broker in chunks of CHUNK."""
    monkeypatch.setattr(services, "CHUNK", CHUNK)
    t = now()
    for feed, records in population_records(PERSONS, t).items():
        result = feed_ingest(feed=feed, records=records)
        assert result.accepted == len(records)
    ids = sorted(PersonStatus.objects.values_list("person_id", flat=True))
    assert len(ids) == PERSONS
    assert not PersonStatus.objects.filter(dirty_since__isnull=True).exists()
    return ids


def dirty() -> set[int]:
    return set(PersonStatus.objects.filter(dirty_since__isnull=False).values_list("person_id", flat=True))


def assert_all_right(ids: list[int]) -> dict:
    """Every status equals the engine's own answer now, none is dirty, effects written once."""
    assert dirty() == set()
    expected = expected_statuses(ids, now())
    assert {s for s, _p in expected.values()} == {"popup", "red", "yellow"}
    assert stored_statuses(ids) == expected
    assert_transitions_once(expected)
    return expected


def hooks(tmp_path, at: int = 1) -> dict:
    return {"HK_FAULT_MARKER": str(tmp_path / "paused.json"), "HK_FAULT_AT": str(at), "HK_FAULT_SLEEP": "60"}


def test_a_worker_killed_mid_batch_loses_nothing_and_the_sweep_finishes_its_work(broker, tmp_path, monkeypatch):
    ids = ingest_population(monkeypatch)
    worker = broker.worker(pool="prefork", hooks=hooks(tmp_path, at=2))
    paused = wait_until(lambda: marker_read(tmp_path / "paused.json"), 30, "the second chunk to pause")
    held = set(paused["person_ids"])
    assert len(held) == CHUNK
    assert held <= dirty(), "the held chunk's writes are not committed"
    assert len(dirty()) == PERSONS - CHUNK, "the first chunk was committed, the rest is still to do"

    worker.kill()  # SIGKILL to the parent and its pool child: no acknowledgement, no warm shutdown
    assert PersonStatus.objects.filter(person_id__in=held, version=0).count() == CHUNK, "rolled back"

    broker.worker(pool="prefork")
    # (<=: the new worker may already have put the killed worker's chunk back, apps.core.workers)
    wait_until(lambda: dirty() <= held, 30, "the new worker to run the chunks still queued")
    # The killed task's message stays unacknowledged in Redis for the visibility timeout (under a
    # minute: test_a_killed_workers_task_is_delivered_again_within_a_minute) before it is delivered
    # again; the persons it held are also still marked dirty, so the periodic sweep (celery beat,
    # every minute: run here at once) recomputes them even sooner.
    sweep_due.delay()
    wait_until(lambda: not dirty(), 30, "the sweep's recomputation")
    assert_all_right(ids)

    # Re-running the whole batch (a late redelivery, a second sweep) changes no row and writes
    # no transition or popup episode again. The rows are marked dirty first (as a second marking
    # would): a clean row whose answer is unchanged is not written at all (issue 17), so the dirty
    # flag cleared and the version up by one are what shows the re-runs have run.
    before, counts = stored_statuses(ids), effects()
    versions = dict(PersonStatus.objects.values_list("person_id", "version"))
    PersonStatus.objects.filter(person_id__in=ids).update(dirty_since=now())
    for _twice in range(2):
        for start in range(0, len(ids), CHUNK):
            recompute_persons.delay(ids[start : start + CHUNK])
    # (At least: the killed task's own message may come again meanwhile, its visibility timeout over.)
    wait_until(
        lambda: (
            not dirty()
            and all(v >= versions[p] + 1 for p, v in PersonStatus.objects.values_list("person_id", "version"))
        ),
        30,
        "both re-runs",
    )
    assert stored_statuses(ids) == before
    assert effects() == counts
    assert_all_right(ids)


def test_a_pool_child_killed_mid_task_has_its_task_delivered_again(broker, tmp_path, monkeypatch):
    """acks_late with reject_on_worker_lost: the parent sees its child die and puts the message
    back, so the task runs again in the next child without waiting for any sweep."""
    ids = ingest_population(monkeypatch)
    broker.worker(pool="prefork", hooks=hooks(tmp_path))
    paused = wait_until(lambda: marker_read(tmp_path / "paused.json"), 30, "the first chunk to pause")
    os.kill(paused["pid"], signal.SIGKILL)
    wait_until(lambda: not dirty(), 40, "every chunk, the lost one included, to be recomputed")
    assert_all_right(ids)


def test_a_task_whose_database_connection_drops_retries_and_ends_right(broker, tmp_path, monkeypatch):
    """The task's PostgreSQL backend is terminated while its transaction is open: the commit
    fails, nothing of it is kept, the task retries on a new connection and ends right."""
    ids = ingest_population(monkeypatch)
    broker.worker(pool="prefork", hooks={**hooks(tmp_path), "HK_FAULT_SLEEP": "3"})
    paused = wait_until(lambda: marker_read(tmp_path / "paused.json"), 30, "the first chunk to pause")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [paused["backend_pid"]])
        assert cursor.fetchone()[0]
    assert PersonStatus.objects.filter(person_id__in=paused["person_ids"], version=0).count() == CHUNK
    wait_until(lambda: not dirty(), 40, "the retried task and the others")
    assert_all_right(ids)


def test_a_killed_workers_task_is_delivered_again_within_a_minute(broker, tmp_path, monkeypatch):
    """SIGKILL to a worker (parent and pool child: nobody is left to put the message back) in the
    middle of a task acknowledged late. Redis hands the unacknowledged message to the next worker
    once the visibility timeout has passed since its delivery (CELERY_BROKER_TRANSPORT_OPTIONS, as
    configured: nothing is lowered here), and the task runs again well within a minute, without the
    sweep."""
    import redis

    from config.celery import app

    options = app.conf.broker_transport_options
    assert options["visibility_timeout"] + options["unacked_restore_interval"] <= 60
    monkeypatch.setattr(services, "CHUNK", PERSONS)  # one task holds every person
    t = now()
    for feed, records in population_records(PERSONS, t).items():
        assert feed_ingest(feed=feed, records=records).accepted == len(records)
    ids = sorted(PersonStatus.objects.values_list("person_id", flat=True))
    assert len(ids) == PERSONS and dirty() == set(ids)

    worker = broker.worker(pool="prefork", hooks={**hooks(tmp_path), "HK_FAULT_SLEEP": "20"})
    paused = wait_until(lambda: marker_read(tmp_path / "paused.json"), 30, "the task to start and pause")
    held = set(paused["person_ids"])
    worker.kill()
    killed_at = time.monotonic()
    unacked = redis.Redis.from_url(BROKER)
    assert unacked.hlen("unacked") >= 1, "the task's message waits, unacknowledged, in Redis"
    assert dirty() >= held, "the killed task's writes were rolled back"

    broker.worker(pool="prefork")
    wait_until(lambda: not dirty(), 60 - (time.monotonic() - killed_at), "the task delivered again", interval=0.5)
    took = time.monotonic() - killed_at
    assert took <= 60
    assert unacked.hlen("unacked") == 0, "acknowledged by the new worker"
    assert_all_right(ids)
    print(f"redelivered and finished {took:.1f} s after the kill")  # noqa: T201
