"""A worker killed outright in the middle of a fan-out (SIGKILL to its parent and pool child: no
warm shutdown, nobody left to put its message back): the next worker notices that its peer stopped
beating (apps.core.workers) and puts the message back at once, so every status is fresh well before
the broker's visibility timeout would have handed it out again, and without any sweep.

Real worker, real broker, PostgreSQL test database: see tests/faults/helpers.py."""

import time

import redis
from django.conf import settings

from apps.core import workers
from apps.core.clock import now
from apps.evidence.services import feed_ingest
from apps.status import services
from apps.status.models import PersonStatus
from tests.faults.conftest import assert_transitions_once, expected_statuses, population_records, stored_statuses
from tests.faults.helpers import BROKER, marker_read, needs_services, wait_until

pytestmark = needs_services

PERSONS = 240
CHUNK = 40  # 6 chunks


def dirty() -> set[int]:
    return set(PersonStatus.objects.filter(dirty_since__isnull=False).values_list("person_id", flat=True))


def test_a_worker_killed_mid_fanout_has_its_tasks_put_back_within_seconds(broker, tmp_path, monkeypatch):
    monkeypatch.setattr(services, "CHUNK", CHUNK)
    monkeypatch.setattr(settings, "CELERY_URGENT_MAX_PERSONS", CHUNK - 1)  # the chunks are bulk work
    t = now()
    for feed, records in population_records(PERSONS, t).items():
        assert feed_ingest(feed=feed, records=records).accepted == len(records)
    ids = sorted(PersonStatus.objects.values_list("person_id", flat=True))
    assert len(ids) == PERSONS and dirty() == set(ids)
    client = redis.Redis.from_url(BROKER)
    assert client.llen("bulk") == PERSONS // CHUNK and client.llen("urgent") == 0

    marker = tmp_path / "paused.json"
    hooks = {"HK_FAULT_MARKER": str(marker), "HK_FAULT_AT": "2", "HK_FAULT_SLEEP": "120"}
    first = broker.worker(pool="prefork", hooks=hooks, args=("-Q", "bulk,urgent", "-n", "bulk-a@test"))
    paused = wait_until(lambda: marker_read(marker), 30, "the second chunk to pause")
    held = set(paused["person_ids"])
    first.kill()
    killed_at = time.monotonic()
    assert client.hlen("unacked") >= 1, "the killed worker's message waits, unacknowledged"
    assert client.hexists(workers.HELD_KEY, client.hkeys("unacked")[0]), "and who held it is known"
    assert dirty() >= held

    broker.worker(pool="prefork", args=("-Q", "bulk,urgent", "-n", "bulk-b@test"))
    visibility = settings.CELERY_VISIBILITY_TIMEOUT
    bound = workers.STALE_SECONDS + 2 * workers.SCAN_SECONDS + 10  # noticed, put back, recomputed
    assert bound < visibility
    wait_until(lambda: not dirty(), bound, "the killed worker's chunk to be put back and run", interval=0.2)
    took = time.monotonic() - killed_at
    assert took < visibility, f"{took:.1f} s: not the visibility timeout ({visibility} s)"
    wait_until(lambda: client.hlen("unacked") == 0, 5, "the restored message to be acknowledged")

    expected = expected_statuses(ids, now())
    assert stored_statuses(ids) == expected
    assert_transitions_once(expected)
    print(f"put back and finished {took:.1f} s after the kill")  # noqa: T201


def test_a_busy_live_worker_keeps_its_task(broker, tmp_path, monkeypatch):
    """A solo worker whose one thread sits in a long task cannot answer the broker's control
    messages, but its heartbeat thread still beats: a peer never takes its task away (the task
    would run twice at once)."""
    monkeypatch.setattr(services, "CHUNK", PERSONS)  # one task
    t = now()
    for feed, records in population_records(PERSONS, t).items():
        assert feed_ingest(feed=feed, records=records).accepted == len(records)
    ids = sorted(PersonStatus.objects.values_list("person_id", flat=True))
    marker = tmp_path / "paused.json"
    pause = workers.STALE_SECONDS + 2 * workers.SCAN_SECONDS + 2
    hooks = {"HK_FAULT_MARKER": str(marker), "HK_FAULT_SLEEP": str(pause)}
    broker.worker(pool="solo", hooks=hooks, args=("-n", "busy@test"))
    wait_until(lambda: marker_read(marker), 30, "the task to start and pause")
    broker.worker(pool="prefork", args=("-n", "idle@test"))
    client = redis.Redis.from_url(BROKER)
    wait_until(lambda: not dirty(), pause + 20, "the busy worker to finish its own task", interval=0.2)
    time.sleep(2)  # a second run, had the task been put back, would have followed at once
    assert set(PersonStatus.objects.values_list("version", flat=True)) == {1}, "recomputed once, not twice"
    assert client.hlen("unacked") == 0
    expected = expected_statuses(ids, now())
    assert stored_statuses(ids) == expected
    assert_transitions_once(expected)
