"""apps.core.workers at its edges: a live worker's messages are never restored under another
worker's clock, nor by a worker that has just come back from losing the broker; long-dead members
leave the set even when they held nothing. Real Redis (CELERY_TEST_BROKER_URL), no worker."""

import time

import pytest

from apps.core import workers
from tests.faults.helpers import BROKER, REQUIRED

needs_redis = pytest.mark.skipif(not BROKER and not REQUIRED, reason="CELERY_TEST_BROKER_URL is not set")
KEYS = (workers.WORKERS_KEY, workers.QUEUES_KEY, workers.HELD_KEY, "unacked")


@pytest.fixture
def client():
    assert BROKER, "required service missing: CELERY_TEST_BROKER_URL"
    c = workers.redis_client(BROKER)
    c.delete(*KEYS)
    yield c
    c.delete(*KEYS)


def _held(client, member: str, tag: str = "tag-1") -> None:
    client.hset("unacked", tag, b'[{}, "", "bulk"]')
    workers.held_record(client, tag, member)


@needs_redis
def test_a_scanner_whose_clock_runs_ahead_never_takes_a_live_peers_message(client, monkeypatch):
    workers.beat(client, "peer@b:1", ["bulk"])  # the peer beats now, by its own (right) clock
    _held(client, "peer@b:1")
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 10 * workers.STALE_SECONDS)  # this host is ahead
    dead, gone = workers.orphans(client)
    assert dead == [] and gone == []
    assert "peer@b:1" in workers.live_members(client)


@needs_redis
def test_a_peer_silent_past_stale_seconds_is_dead_by_the_brokers_clock(client):
    workers.beat(client, "peer@b:1", ["bulk"])
    _held(client, "peer@b:1")
    server = workers.server_time(client)
    dead, _ = workers.orphans(client, at=server + workers.STALE_SECONDS + 0.5)
    assert dead == ["tag-1"]
    dead, _ = workers.orphans(client, at=server + workers.STALE_SECONDS - 0.5)
    assert dead == []


class _Flaky:
    """A Redis client that fails while `down`."""

    def __init__(self, client):
        self.client, self.down = client, False

    def __getattr__(self, name):
        if self.down:
            raise ConnectionError("broker unreachable")
        return getattr(self.client, name)


@needs_redis
def test_a_worker_back_from_a_broker_outage_waits_before_judging_its_peers(client, monkeypatch):
    """During an outage no peer could beat either: a scan right after it would find every live
    worker stale and hand their running tasks to a second worker."""
    clock = [1000.0]
    monkeypatch.setattr(workers.time, "monotonic", lambda: clock[0])
    restored = []
    monkeypatch.setattr(workers, "restore_orphans", lambda app, c: restored.append(clock[0]) or 0)
    liveness = workers.Liveness(None, url=BROKER, hostname="me@a", queues=["bulk"])
    flaky = _Flaky(liveness.client)
    liveness.client = flaky
    liveness.start()
    liveness.round()
    assert restored == []  # just started: its peers have not been watched for STALE_SECONDS yet
    clock[0] += workers.STALE_SECONDS
    liveness.round()
    assert restored == [clock[0]]
    flaky.down = True
    clock[0] += workers.SCAN_SECONDS
    liveness.round()  # fails: logged, nothing scanned
    flaky.down = False
    clock[0] += workers.HEARTBEAT_SECONDS
    for _ in range(3):
        liveness.round()
        clock[0] += workers.HEARTBEAT_SECONDS
    assert len(restored) == 1  # back less than STALE_SECONDS ago: no scan
    clock[0] += workers.STALE_SECONDS
    liveness.round()
    assert len(restored) == 2


@needs_redis
def test_long_dead_members_leave_the_set_even_holding_nothing(client):
    client.zadd(workers.WORKERS_KEY, {"old@c:1": workers.server_time(client) - 11 * workers.STALE_SECONDS})
    client.hset(workers.QUEUES_KEY, "old@c:1", "bulk")
    workers.beat(client, "peer@b:1", ["bulk"])
    assert workers.restore_orphans(None, client) == 0
    assert client.zscore(workers.WORKERS_KEY, "old@c:1") is None
    assert client.hget(workers.QUEUES_KEY, "old@c:1") is None
    assert client.zscore(workers.WORKERS_KEY, "peer@b:1") is not None


@needs_redis
def test_a_worker_whose_first_beat_fails_still_beats_later(client, monkeypatch):
    """A broker blip at start must not leave a worker that receives messages but never beats: its
    peers would take every message it runs."""
    liveness = workers.Liveness(None, url=BROKER, hostname="me@a", queues=["bulk"])
    flaky = _Flaky(liveness.client)
    flaky.down = True
    liveness.client = flaky
    monkeypatch.setattr(workers, "HEARTBEAT_SECONDS", 0.01)
    liveness.start()  # does not raise
    try:
        assert liveness.thread.is_alive() and liveness.beating_since is None
        flaky.down = False
        deadline = time.monotonic() + 10
        while liveness.beating_since is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert liveness.beating_since is not None
        assert client.zscore(workers.WORKERS_KEY, liveness.member) is not None
    finally:
        liveness.stopped.set()
        liveness.thread.join(5)


@needs_redis
def test_a_message_is_recorded_as_held_only_by_a_worker_that_beats(client, monkeypatch):
    import config.celery as celery_config

    liveness = workers.Liveness(None, url=BROKER, hostname="me@a", queues=["bulk"])  # not started
    monkeypatch.setattr(celery_config, "_liveness", liveness)

    class Request:
        class message:  # noqa: N801 - the shape of a Celery request's message
            delivery_tag = "tag-9"

    celery_config.liveness_hold(request=Request())
    assert client.hget(workers.HELD_KEY, "tag-9") is None  # never beat: left to the visibility timeout
    liveness.beating_since = time.monotonic()
    celery_config.liveness_hold(request=Request())
    assert client.hget(workers.HELD_KEY, "tag-9") == liveness.member.encode()
