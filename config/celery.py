"""The Celery application. Without a broker configured, tasks run eagerly in-process.

Tasks are acknowledged late (CELERY_TASK_ACKS_LATE): a worker that dies mid-task leaves the message
unacknowledged in Redis, which hands it to another worker once CELERY_VISIBILITY_TIMEOUT has passed
since its delivery (config/settings/base.py). That timeout must exceed the longest a task acknowledged
late can run, or Redis would hand a task that is still running to a second worker; a worker refuses
to start when a task's time limit does not leave that margin (`tasks_outliving_visibility`).

Two queues by urgency (issue 17): `urgent` for one person's recomputation (a release, an order,
a feed of a few records) and `bulk` for fan-outs, sweeps and other long work (`route_task`). The
workers that consume them are in the README (Production-like set-up): one consumes `urgent` only,
so a person's change never waits behind a fan-out's hundreds of chunks.

A worker killed outright (SIGKILL, out of memory) is noticed by its peers within seconds
(apps.core.workers: heartbeats in Redis) and the tasks it held are put back at once, without
waiting for the visibility timeout.

Every task body runs as origin `task` (apps.core.origin), in a worker and eagerly alike: what a
task changes is audited as coming from a task, even when a request ran it eagerly.
"""

import os

from celery import Celery, current_task, signals
from django.conf import settings

from apps.core import workers
from apps.core.origin import Origin, origin_enter, origin_leave

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = Celery("healthkit")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

URGENT, BULK = "urgent", "bulk"
# Fan-outs, sweeps and long upkeep: never in front of a person's recomputation. Any task not named
# here or in URGENT_TASKS goes to the default queue, CELERY_TASK_DEFAULT_QUEUE (bulk).
BULK_TASKS = frozenset(
    {
        "apps.status.tasks.fanout_areas",
        "apps.status.tasks.sweep_due",
        "apps.reviews.tasks.sweep_due_reviews",
        "apps.audit.tasks.seal",
        "apps.retention.tasks.purge_expired",
    }
)
# One release's background review: a staff member's decision waits on it.
URGENT_TASKS = frozenset({"apps.reviews.tasks.release_review"})
RECOMPUTE = "apps.status.tasks.recompute_persons"


def route_task(name, args, kwargs, options, task=None, **kw):
    """CELERY_TASK_ROUTES: the queue of a task being sent. A recomputation of at most
    CELERY_URGENT_MAX_PERSONS persons is one person's change (a release, an order, a small feed
    batch): `urgent`. A bigger one is a chunk of a fan-out or of a large feed batch: `bulk`. Anything
    sent by a task that itself came from `bulk` (the sweep's and a fan-out task's chunks, the
    reviews' sweep sending reviews again) stays in `bulk`, whatever its size. A queue given to
    `apply_async(queue=...)` wins over this (Celery merges the explicit options last)."""
    if name in BULK_TASKS or _sent_from_bulk():
        return {"queue": BULK}
    if name == RECOMPUTE:
        ids = args[0] if args else (kwargs or {}).get("person_ids", ())
        return {"queue": URGENT if len(ids) <= settings.CELERY_URGENT_MAX_PERSONS else BULK}
    if name in URGENT_TASKS:
        return {"queue": URGENT}
    return None


def _sent_from_bulk() -> bool:
    running = current_task
    if not running or running.request.called_directly:
        return False
    if running.name in BULK_TASKS:  # eagerly too: a sweep run in-process sends bulk work
        return True
    delivery = running.request.delivery_info or {}
    return delivery.get("routing_key") == BULK


# Seconds a task acknowledged late may run at most, short of the visibility timeout: room for a
# retry's countdown (recompute_persons backs off 16 s at most) and for the worker to acknowledge.
VISIBILITY_MARGIN = 20


def tasks_outliving_visibility(celery_app) -> list[str]:
    """The registered tasks acknowledged late whose hard time limit (their own, else the global
    one) is not VISIBILITY_MARGIN seconds short of the broker's visibility timeout."""
    conf = celery_app.conf
    visibility = (conf.broker_transport_options or {}).get("visibility_timeout", 3600)
    problems = []
    for name, task in sorted(celery_app.tasks.items()):
        if name.startswith("celery.") or not (task.acks_late if task.acks_late is not None else conf.task_acks_late):
            continue
        limit = task.time_limit or conf.task_time_limit
        if limit is None or limit + VISIBILITY_MARGIN > visibility:
            problems.append(f"{name} (time limit {limit} s, visibility timeout {visibility} s)")
    return problems


@signals.worker_init.connect
def refuse_tasks_outliving_visibility(sender=None, **kwargs):
    """A worker whose tasks could outlive the visibility timeout would run them twice: it does not
    start. (SystemExit: Celery logs and ignores an ordinary exception raised by a signal handler.)"""
    problems = tasks_outliving_visibility(app)
    if problems:
        raise SystemExit(
            "Refusing to start: these tasks are acknowledged late and may run longer than the broker's "
            f"visibility timeout less {VISIBILITY_MARGIN} s, so Redis would deliver them again while they "
            "still run: " + "; ".join(problems) + ". Lower their time limit or raise CELERY_VISIBILITY_TIMEOUT."
        )


# The origin each running task entered, by task id, until its postrun (sent however it ended).
_task_origins = {}


@signals.task_prerun.connect
def enter_task_origin(task_id=None, **kwargs):
    _task_origins[task_id] = origin_enter(Origin.TASK)


@signals.task_postrun.connect
def leave_task_origin(task_id=None, **kwargs):
    token = _task_origins.pop(task_id, None)
    if token is not None:
        origin_leave(token)


# --- Liveness: heartbeats, and the tasks of a worker that died (apps.core.workers) ---------------

_liveness: workers.Liveness | None = None


def _redis_broker() -> str:
    url = app.conf.broker_url or ""
    return url if url.startswith(("redis://", "rediss://", "unix://")) else ""


@signals.worker_ready.connect
def liveness_start(sender=None, **kwargs):
    """The worker's main process beats in Redis and watches for dead peers, from its own thread."""
    global _liveness
    url = _redis_broker()
    if not url or _liveness is not None:
        return
    queues = sorted(app.amqp.queues.consume_from)
    _liveness = workers.Liveness(app, url=url, hostname=sender.hostname, queues=queues)
    _liveness.start()


@signals.worker_shutdown.connect
def liveness_stop(sender=None, **kwargs):
    global _liveness
    if _liveness is not None:
        _liveness.stop()
        _liveness = None


@signals.task_received.connect
def liveness_hold(sender=None, request=None, **kwargs):
    """Who holds this message (in the main process, as it arrives): if that process stops beating,
    a peer puts the message back (apps.core.workers.restore_orphans)."""
    if _liveness is None or request is None or not _liveness.beating:
        return  # not recorded: the visibility timeout still applies
    tag = getattr(request.message, "delivery_tag", None)
    if tag:
        try:
            workers.held_record(_liveness.client, tag, _liveness.member)
        except Exception:  # noqa: BLE001 - without the record the visibility timeout still applies
            pass


@signals.worker_process_shutdown.connect
def metrics_process_dead(pid=None, **kwargs):
    """prometheus_client multiprocess mode (PROMETHEUS_MULTIPROC_DIR, apps.core.metrics): a pool
    child that exits leaves the live gauges, as gunicorn's child_exit does for a web worker."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid or os.getpid())
