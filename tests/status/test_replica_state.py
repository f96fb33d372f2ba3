"""apps.core.replicas' per-process state, without a replica: one thread checking never holds the
others, a verdict lapses when it grows older than the lag allows, a forked child starts afresh,
and the replica aliases time out. The checks themselves are replaced (`_check`); the clock is the
test's. The PostgreSQL replica itself: tests/status/test_replicas.py."""

import os
import threading

import pytest

from apps.core import replicas

ALIAS = "replica_x"


@pytest.fixture
def state(settings, monkeypatch):
    settings.DATABASE_REPLICAS = [ALIAS]
    settings.DATABASE_REPLICA_MAX_LAG = 1.0
    settings.DATABASE_REPLICA_CHECK_SECONDS = 0.25
    settings.DATABASE_REPLICA_RETRY_SECONDS = 5.0
    clock = [1000.0]
    monkeypatch.setattr(replicas, "_monotonic", lambda: clock[0])
    replicas.reset()
    yield clock
    replicas.reset()


def _checked(lag: float):
    """A `_check` that finds the replica `lag` seconds behind."""

    def check(state, aliases, t):
        for alias in aliases:
            replica = state.replicas[alias]
            replica.checked_at, replica.lag = t, lag
            replica.usable = lag + 0.25 <= 1.0

    return check


def test_a_thread_checking_a_hung_replica_does_not_hold_the_others(state, monkeypatch):
    monkeypatch.setattr(replicas, "_check", _checked(0.1))
    assert replicas.read_alias() == ALIAS  # checked at 1000.0: 0.1 s behind
    state[0] += 0.3  # due again
    entered, release = threading.Event(), threading.Event()

    def hung(state_, aliases, t):
        entered.set()
        release.wait(30)

    monkeypatch.setattr(replicas, "_check", hung)
    first = threading.Thread(target=replicas.read_alias)
    first.start()
    try:
        assert entered.wait(10)
        answers = []
        other = threading.Thread(target=lambda: answers.append(replicas.read_alias()))
        other.start()
        other.join(10)
        assert not other.is_alive(), "a second thread waited for the first one's check"
        # 0.1 s behind at 1000.0, 0.3 s ago: still within the second of lag allowed.
        assert answers == [ALIAS]
        state[0] += 0.7  # 0.1 + 1.0 s: a commit of a second ago may not be there
        assert replicas.read_alias() == replicas.PRIMARY
    finally:
        release.set()
        first.join(10)
    assert replicas._state.checking is False


def test_a_verdict_lapses_with_its_age_not_at_the_next_check(state, monkeypatch):
    monkeypatch.setattr(replicas, "_check", _checked(0.7))
    assert replicas.read_alias() == ALIAS  # 0.7 + 0.25 <= 1
    calls = []
    monkeypatch.setattr(replicas, "_check", lambda *a: calls.append(a))  # a check that finds nothing new
    state[0] += 0.3  # 0.7 + 0.3 = 1.0: the edge, still allowed
    assert replicas.read_alias() == ALIAS
    state[0] += 0.01
    assert replicas.read_alias() == replicas.PRIMARY
    assert len(calls) == 2


def test_a_forked_child_starts_with_a_fresh_state(state, monkeypatch):
    monkeypatch.setattr(replicas, "_check", _checked(0.1))
    assert replicas.read_alias() == ALIAS
    with replicas._state.lock:  # a thread of the parent inside the lock at the fork
        pid = os.fork()
        if pid == 0:  # the child: exit code 0 only with a fresh, unlocked state
            fresh = not replicas._state.lock.locked() and not replicas._state.replicas
            os._exit(0 if fresh else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert replicas._state.replicas  # the parent's own state is kept


def test_replica_aliases_connect_and_query_with_timeouts(monkeypatch):
    import importlib

    import config.settings.base as base

    monkeypatch.setenv("DATABASE_REPLICA_URLS", "postgres://u@10.0.0.9:5432/hk, postgres://u@10.0.0.10:5432/hk")
    try:
        reloaded = importlib.reload(base)
        assert reloaded.DATABASE_REPLICAS == ["replica_0", "replica_1"]
        for alias in reloaded.DATABASE_REPLICAS:
            options = reloaded.DATABASES[alias]["OPTIONS"]
            assert options["connect_timeout"] == 2
            assert options["options"] == "-c statement_timeout=2000"
    finally:
        monkeypatch.delenv("DATABASE_REPLICA_URLS")
        importlib.reload(base)
