"""The Celery application. Without a broker configured, tasks run eagerly in-process.

Tasks are acknowledged late (CELERY_TASK_ACKS_LATE): a worker that dies mid-task leaves the message
unacknowledged in Redis, which hands it to another worker once CELERY_VISIBILITY_TIMEOUT has passed
since its delivery (config/settings/base.py). That timeout must exceed the longest a task acknowledged
late can run, or Redis would hand a task that is still running to a second worker; a worker refuses
to start when a task's time limit does not leave that margin (`tasks_outliving_visibility`).

Every task body runs as origin `task` (apps.core.origin), in a worker and eagerly alike: what a
task changes is audited as coming from a task, even when a request ran it eagerly.
"""

import os

from celery import Celery, signals

from apps.core.origin import Origin, origin_enter, origin_leave

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = Celery("healthkit")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

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
