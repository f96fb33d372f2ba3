"""Which database may serve a read now: a streaming replica of `settings.DATABASE_REPLICAS` that is
up and close enough behind the primary, else the primary (`default`). README: Read replicas.

Only reads inside `reading()` (the status look-up) go to a replica, and never inside a transaction
on the primary: a transaction may have written, and what it wrote is not on any replica; every
other read, and every write, stays on the primary (apps.core.routers.ReplicaRouter).

How far behind a replica is, measured soundly and cheaply, at most every
DATABASE_REPLICA_CHECK_SECONDS per process (never a query per look-up): each check notes the
primary's WAL flush position with the moment it was read, then reads the replica's replay position.
The latest noted moment whose position the replica has replayed is a moment up to which every commit
of the primary is visible on the replica (a commit is visible once its WAL is flushed); the replica
serves reads until the next check only if that moment, plus the time to the next check, is within
DATABASE_REPLICA_MAX_LAG of now. So a read from a replica never misses a commit older than
DATABASE_REPLICA_MAX_LAG seconds. (`pg_last_xact_replay_timestamp()` would say nothing of a replica
whose receiver is disconnected, and compares two machines' clocks.)

A replica that fails (a connection error) is not asked again for DATABASE_REPLICA_RETRY_SECONDS;
the read is served by the primary and the failure logged once.

One thread of a process checks at a time, and it checks outside the lock: the other threads go on
deciding from the last check meanwhile (a replica whose host stopped answering must not hold every
look-up of the process for its connect timeout), and that last check's verdict lapses when it is
older than the lag allows (`_fresh`), so a slow check never stretches DATABASE_REPLICA_MAX_LAG.
A forked child (gunicorn preload_app, Celery prefork) starts with no state: a lock held by a thread
of the parent at the fork would otherwise stay locked in the child for ever.

A ground layer: imports nothing from the other apps.
"""

import contextlib
import contextvars
import logging
import os
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, InterfaceError, OperationalError, connections

logger = logging.getLogger(__name__)
PRIMARY = DEFAULT_DB_ALIAS
SAMPLES = 256  # noted primary positions kept: at 4 checks a second, a minute of history
_monotonic = time.monotonic  # the tests move this clock

_reading: contextvars.ContextVar[str | None] = contextvars.ContextVar("healthkit_replica_reading", default=None)


@dataclass
class _Replica:
    checked_at: float | None = None
    usable: bool = False
    down_until: float = 0.0
    lag: float | None = None  # seconds, at the last check; None: unknown (down, or too far behind)


@dataclass
class _State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    replicas: dict[str, _Replica] = field(default_factory=dict)
    samples: deque = field(default_factory=lambda: deque(maxlen=SAMPLES))  # (moment, primary flush LSN)
    turn: int = 0
    checking: bool = False  # a thread is checking (outside the lock)


_state = _State()


def reset() -> None:
    """Forget every replica's health and the noted positions (tests; a process after fork)."""
    global _state
    _state = _State()


os.register_at_fork(after_in_child=reset)


def replica_aliases() -> list[str]:
    return list(getattr(settings, "DATABASE_REPLICAS", ()) or ())


def reading_alias() -> str | None:
    """The replica the current `reading()` block reads from, or None (the primary)."""
    alias = _reading.get()
    if alias is None or connections[PRIMARY].in_atomic_block:
        return None
    return alias


@contextlib.contextmanager
def reading():
    """Reads of people and statuses inside this block may be served by a replica (the one
    `read_alias()` picks on entry); yields its alias, or the primary's."""
    alias = read_alias()
    token = _reading.set(alias if alias != PRIMARY else None)
    try:
        yield alias
    finally:
        _reading.reset(token)


def read_alias() -> str:
    """A replica that may serve a read now, or the primary: none configured, inside a transaction
    on the primary, every replica down or lagging."""
    aliases = replica_aliases()
    if not aliases or connections[PRIMARY].in_atomic_block:
        return PRIMARY
    state = _state
    t = _monotonic()
    with state.lock:
        state.turn += 1
        start = state.turn % len(aliases)
        due = [a for a in aliases if _due(state, a, t)]
        check = bool(due) and not state.checking
        state.checking = state.checking or check
    if check:
        try:
            _check(state, due, t)
        finally:
            state.checking = False
    for alias in aliases[start:] + aliases[:start]:
        replica = state.replicas[alias]
        if replica.usable and t >= replica.down_until and _fresh(replica, t):
            return alias
    return PRIMARY


def _fresh(replica: _Replica, t: float) -> bool:
    """Whether a commit older than DATABASE_REPLICA_MAX_LAG is surely visible on the replica at `t`
    by its last check: what it had replayed then, aged by the time since."""
    return (
        replica.lag is not None
        and replica.checked_at is not None
        and replica.lag + (t - replica.checked_at) <= settings.DATABASE_REPLICA_MAX_LAG
    )


def _due(state: _State, alias: str, t: float) -> bool:
    replica = state.replicas.setdefault(alias, _Replica())
    if t < replica.down_until:
        return False
    return replica.checked_at is None or t - replica.checked_at >= settings.DATABASE_REPLICA_CHECK_SECONDS


def _check(state: _State, aliases: list[str], t: float) -> None:
    try:
        with connections[PRIMARY].cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_flush_lsn()")
            state.samples.append((t, lsn(cursor.fetchone()[0])))
    except DatabaseError:
        logger.exception("Read replicas: cannot read the primary's WAL position; reading from the primary")
        for alias in aliases:
            state.replicas[alias].usable = False
        return
    for alias in aliases:
        replica = state.replicas[alias]
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()")
                in_recovery, replayed = cursor.fetchone()
        except DatabaseError as e:
            mark_down(alias, e, t=t)
            replica.checked_at = t
            continue
        if not in_recovery or replayed is None:  # promoted, or not a streaming replica at all
            logger.error("Read replicas: %s is not a replica in recovery; not reading from it", alias)
            replica.usable, replica.lag, replica.checked_at = False, None, t
            continue
        replayed = lsn(replayed)
        visible_up_to = next((at for at, position in reversed(state.samples) if position <= replayed), None)
        lag = None if visible_up_to is None else t - visible_up_to
        # The moment and the verdict together, once the check is done (readers meanwhile age the last).
        replica.usable = False
        replica.checked_at, replica.lag = t, lag
        replica.usable = (
            lag is not None and lag + settings.DATABASE_REPLICA_CHECK_SECONDS <= settings.DATABASE_REPLICA_MAX_LAG
        )


def mark_down(alias: str, error: BaseException | None = None, *, t: float | None = None) -> None:
    """A read from `alias` failed: read from the primary and ask `alias` again only after
    DATABASE_REPLICA_RETRY_SECONDS. Its broken connection is closed so the retry connects anew."""
    t = _monotonic() if t is None else t
    replica = _state.replicas.setdefault(alias, _Replica())
    if replica.down_until <= t:
        logger.warning("Read replicas: %s is down (%s); reading from the primary", alias, error)
    replica.usable, replica.lag = False, None
    replica.down_until = t + settings.DATABASE_REPLICA_RETRY_SECONDS
    with contextlib.suppress(Exception):
        connections[alias].close()


def health() -> dict[str, dict]:
    """Each replica's state as this process last saw it (usable, lag in seconds), for the bench."""
    return {
        alias: {"usable": r.usable, "lag": r.lag, "down": r.down_until > _monotonic()}
        for alias, r in _state.replicas.items()
    }


def lsn(value: str) -> int:
    """A `pg_lsn` text ('16/B374D848') as an integer position."""
    high, low = str(value).split("/")
    return (int(high, 16) << 32) | int(low, 16)


def on_replica(fn, /, *args, **kwargs):
    """Run `fn` inside `reading()`; if the replica fails under it, mark it down and run `fn`
    again on the primary. For a read path whose queries the router sends to a replica (the
    status look-up), so a replica going down between two checks costs a retry, never a 500."""
    with reading() as alias:
        if alias == PRIMARY:
            return fn(*args, **kwargs)
        try:
            return fn(*args, **kwargs)
        except DatabaseError as e:
            if not isinstance(e, InterfaceError | OperationalError):  # a bad query: not the replica's fault
                raise
            mark_down(alias, e)
    return fn(*args, **kwargs)
