"""Real services for the fault tests and the real-worker test: a Celery worker subprocess on the
test broker against the shared PostgreSQL test database, and the skip rule they share.

They need PostgreSQL (the worker is another process and must see the test database) and a broker
(`CELERY_TEST_BROKER_URL`, a Redis database of its own). Without them the tests are skipped, except
when `HEALTHKIT_REQUIRE_SERVICES=1` (CI), where a missing service fails them instead."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

BROKER = os.environ.get("CELERY_TEST_BROKER_URL", "")
REQUIRED = os.environ.get("HEALTHKIT_REQUIRE_SERVICES") == "1"
ROOT = Path(__file__).resolve().parents[2]
UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connection refused at once


def services_missing() -> str:
    if not BROKER:
        return "CELERY_TEST_BROKER_URL is not set"
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        return "the worker needs a shared PostgreSQL database"
    return ""


needs_services = pytest.mark.skipif(bool(services_missing()) and not REQUIRED, reason=services_missing() or "-")


def reset_connections(app) -> None:
    """Drop pooled broker connections so the next use connects to the configured broker. Eager
    tasks also take a producer from kombu's global pools, so those are emptied too (a closed pool
    left there would fail every later `delay`)."""
    from kombu import pools

    if app._pool is not None:
        app._pool.force_close_all()
    app._pool = None
    app.amqp._producer_pool = None
    pools.reset()


def broker_use(app, url: str) -> None:
    """Point this process's Celery app at `url` (a real broker: tasks are sent, not run eagerly),
    or back to eager in-process execution when `url` is empty (the test settings' default)."""
    app.conf.broker_url = url
    app.conf.task_always_eager = not url
    reset_connections(app)


def wait_until(predicate: Callable[[], object], timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def pg_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """A `celery worker` subprocess on the test broker, in a process group of its own so that it
    can be killed with its pool children. `pool="prefork"` is the production pool (a parent and
    one child); `hooks` adds `hooks_module` (`tests.faults.worker_hooks`) with its environment (see there)."""

    def __init__(
        self,
        app,
        *,
        pool: str = "solo",
        hooks: dict | None = None,
        hooks_module: str = "tests.faults.worker_hooks",
        args: tuple[str, ...] = (),
    ):
        self.app = app
        env = dict(
            os.environ,
            DATABASE_URL=pg_url(),
            CELERY_BROKER_URL=BROKER,
            DJANGO_SETTINGS_MODULE="config.settings.test",
        )
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", f"--pool={pool}", "-l", "warning"]
        command += ["--without-heartbeat", "--without-gossip", "--without-mingle"]
        if pool == "prefork":
            command.append("--concurrency=1")
        command += list(args)  # e.g. ("-Q", "urgent", "-n", "urgent@test")
        if hooks:
            command += ["--include", hooks_module]
            env.update(hooks)
        self.proc = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
        try:
            wait_until(self._answers, 30, "the Celery worker to start", interval=0)
        except BaseException:
            self.kill()
            raise

    def _answers(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"the Celery worker exited with {self.proc.returncode}")
        try:
            return bool(self.app.control.ping(timeout=0.5))
        except Exception:  # noqa: BLE001 - the broker may still be starting
            return False

    def kill(self) -> None:
        """SIGKILL the worker and its pool children at once: no warm shutdown, no acknowledgement."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:  # the whole group is gone already
            pass
        self.proc.wait(timeout=20)


class Broker:
    """The real test broker, as this process's Celery app sees it, and the workers started on it."""

    def __init__(self, app):
        self.app = app
        self.workers: list[Worker] = []

    def worker(self, **kwargs) -> Worker:
        w = Worker(self.app, **kwargs)
        self.workers.append(w)
        return w


@contextlib.contextmanager
def real_broker(app):
    """Point this process's app at the test broker (tasks are sent, not run here) and empty its
    queue. Afterwards kill the workers started with `.worker(...)`, forget the messages a killed
    worker left unacknowledged (Redis would deliver them again after its visibility timeout,
    CELERY_VISIBILITY_TIMEOUT, into another test) and go back to eager execution."""
    missing = services_missing()
    assert not missing, f"required service missing: {missing}"
    broker_use(app, BROKER)
    broker = Broker(app)
    try:
        app.control.purge()
        yield broker
    finally:
        for w in broker.workers:
            w.kill()
        try:
            import redis

            from apps.core import workers

            redis.Redis.from_url(BROKER).delete(
                "unacked", "unacked_index", "unacked_mutex", workers.WORKERS_KEY, workers.QUEUES_KEY, workers.HELD_KEY
            )
            app.control.purge()
        finally:
            broker_use(app, "")


def marker_read(path: Path) -> dict | None:
    """What `worker_hooks` wrote when it paused mid-recomputation, once it has."""
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
