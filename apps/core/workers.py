"""Which Celery workers are alive, and the tasks a dead one was holding (issue 17).

Every worker's main process writes a heartbeat into the broker's Redis (a sorted set of
`hostname:pid` → last beat, and the queues it consumes) from a thread of its own, every
HEARTBEAT_SECONDS, and records which of its processes holds each message it receives
(`healthkit:held`, delivery tag → `hostname:pid`). A worker killed with SIGKILL (or a lost machine)
stops beating; after STALE_SECONDS any live worker puts the messages its dead peer held
(unacknowledged, acks_late) back at the head of their queues, with kombu's own `restore_by_tag`.
Without this Redis would hand them out only when the visibility timeout has passed (50 s,
config/settings/base.py); with it they run again within about STALE_SECONDS + SCAN_SECONDS.

A message is restored only when the process that received it has stopped beating: a busy but
live worker (a solo pool whose one thread is inside a long task) still beats from its thread,
so its tasks are never handed to a second worker while they run. Every beat and every judgement
reads the broker's clock (Redis TIME), never the host's: a scanner whose clock ran STALE_SECONDS
ahead of a peer's would otherwise take every message the peer is running. And a worker judges
its peers only once it has itself beaten without a failure for STALE_SECONDS: after a broker
outage nobody could beat, and a scan at once would find every live peer stale. A message received by no
recorded process (killed between taking it and recording it) is left to the visibility timeout.

`/readyz` (apps.core.health) reads the same heartbeats to say whether each queue has a consumer.
Nothing here imports another app: it is the ground layer, used by config/celery.py."""

import logging
import os
import socket
import threading
import time

logger = logging.getLogger(__name__)

WORKERS_KEY = "healthkit:workers"  # sorted set: member `hostname:pid`, score = last beat (unix time)
QUEUES_KEY = "healthkit:worker-queues"  # hash: member → comma-separated queues it consumes
HELD_KEY = "healthkit:held"  # hash: delivery tag → member that received the message
HEARTBEAT_SECONDS = 2.0
STALE_SECONDS = 8.0
SCAN_SECONDS = 3.0


def member_name(hostname: str | None = None) -> str:
    return f"{hostname or socket.gethostname()}:{os.getpid()}"


def redis_client(url: str):
    """A client of the broker's Redis, with short timeouts: a probe or a heartbeat never hangs."""
    import redis

    return redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)


def server_time(client) -> float:
    """The broker's clock (Redis TIME), in unix seconds: the one clock every worker beats by."""
    seconds, micros = client.time()
    return seconds + micros / 1_000_000


def live_members(client, *, at: float | None = None) -> dict[str, list[str]]:
    """The workers that beat within STALE_SECONDS, each with the queues it consumes."""
    at = server_time(client) if at is None else at
    members = [m.decode() for m in client.zrangebyscore(WORKERS_KEY, at - STALE_SECONDS, "+inf")]
    if not members:
        return {}
    queues = client.hmget(QUEUES_KEY, members)
    return {m: (q.decode().split(",") if q else []) for m, q in zip(members, queues, strict=True)}


def beat(client, member: str, queues: list[str]) -> None:
    at = server_time(client)
    pipe = client.pipeline()
    pipe.zadd(WORKERS_KEY, {member: at})
    pipe.hset(QUEUES_KEY, member, ",".join(queues))
    pipe.execute()


def forget(client, member: str) -> None:
    """A worker shutting down warmly restores its own messages (kombu) and leaves the set."""
    pipe = client.pipeline()
    pipe.zrem(WORKERS_KEY, member)
    pipe.hdel(QUEUES_KEY, member)
    pipe.execute()


def held_record(client, delivery_tag: str, member: str) -> None:
    client.hset(HELD_KEY, delivery_tag, member)


def orphans(client, *, at: float | None = None) -> tuple[list[str], list[str]]:
    """(tags of unacknowledged messages whose receiver stopped beating, tags recorded but no longer
    unacknowledged: acknowledged or restored, to forget)."""
    at = server_time(client) if at is None else at
    held = {k.decode(): v.decode() for k, v in client.hgetall(HELD_KEY).items()}
    if not held:
        return [], []
    tags = list(held)
    still = client.hmget("unacked", tags)
    scores = dict(client.zrangebyscore(WORKERS_KEY, "-inf", "+inf", withscores=True))
    beats = {k.decode(): v for k, v in scores.items()}
    dead, gone = [], []
    for tag, payload in zip(tags, still, strict=True):
        if payload is None:
            gone.append(tag)
        elif beats.get(held[tag], 0) < at - STALE_SECONDS:
            dead.append(tag)
    return dead, gone


def restore_orphans(celery_app, client) -> int:
    """Put the messages held by dead workers back at the head of their queues (kombu's
    `restore_by_tag`, a Redis transaction watching the unacknowledged hash, so two live workers
    scanning at once restore a message once). Returns how many were restored."""
    at = server_time(client)
    dead, gone = orphans(client, at=at)
    stale_members = {m.decode() for m in client.zrangebyscore(WORKERS_KEY, "-inf", at - 10 * STALE_SECONDS)}
    for member in stale_members:  # long dead, holding something or not: out of the set, which stays small
        forget(client, member)
    if gone:
        client.hdel(HELD_KEY, *gone)
    if not dead:
        return 0
    # Forgotten before the restore: the worker that takes a restored message records it anew
    # (the same delivery tag), and a later HDEL would erase that record.
    client.hdel(HELD_KEY, *dead)
    with celery_app.connection_for_write() as conn:
        qos = conn.default_channel.qos
        for tag in dead:
            qos.restore_by_tag(tag)  # RPUSH: consumers BRPOP, so it is the next taken (publishing LPUSHes)
    logger.warning("Restored %d task(s) held by a worker that stopped beating", len(dead))
    return len(dead)


class Liveness:
    """The thread of a worker's main process: beats, and looks for a dead peer's messages."""

    def __init__(self, celery_app, *, url: str, hostname: str, queues: list[str]):
        self.app = celery_app
        self.client = redis_client(url)
        self.member = member_name(hostname)
        self.queues = queues
        self.stopped = threading.Event()
        self.beating_since: float | None = None  # monotonic: first beat since the last failure
        self.next_scan = 0.0
        self.thread = threading.Thread(target=self._run, name="healthkit-liveness", daemon=True)

    def start(self) -> None:
        """Beat once and start the thread. A broker blip here must not leave a worker that takes
        messages but never beats (its peers would take them all): the thread beats again."""
        try:
            beat(self.client, self.member, self.queues)
            self.beating_since = time.monotonic()
        except Exception:  # noqa: BLE001 - the thread's next round beats again
            logger.warning("liveness: the first heartbeat failed", exc_info=True)
        self.thread.start()

    @property
    def beating(self) -> bool:
        """Whether this worker's last beat succeeded: only then are the messages it takes recorded
        as held (by a worker not beating, a peer would take them at once)."""
        return self.beating_since is not None

    def stop(self) -> None:
        self.stopped.set()
        try:
            forget(self.client, self.member)
        except Exception:  # noqa: BLE001 - the broker may be gone at shutdown
            logger.debug("liveness: could not leave the set", exc_info=True)

    def _run(self) -> None:
        while not self.stopped.wait(HEARTBEAT_SECONDS):
            self.round()

    def round(self) -> None:
        """One beat, and a scan when one is due and this worker has beaten without a failure for
        STALE_SECONDS (so every live peer has had as long to beat since the broker came back)."""
        try:
            beat(self.client, self.member, self.queues)
            t = time.monotonic()
            if self.beating_since is None:
                self.beating_since = t
            if t >= self.next_scan and t - self.beating_since >= STALE_SECONDS:
                restore_orphans(self.app, self.client)
                self.next_scan = time.monotonic() + SCAN_SECONDS
        except Exception:  # noqa: BLE001 - a broker blip: beat again on the next round
            self.beating_since = None
            logger.warning("liveness: heartbeat or scan failed", exc_info=True)
