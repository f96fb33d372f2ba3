"""The broker's visibility timeout as configured (config/settings/base.py, config/celery.py): a dead
worker's task is delivered again within a minute, and no task acknowledged late may run long enough
to be delivered again while it still runs (a worker refuses to start with one). The redelivery
itself, with a real worker killed: test_worker_faults.py."""

import pytest
from celery import Celery
from django.conf import settings

from config import celery as celery_config
from config.celery import VISIBILITY_MARGIN, app, refuse_tasks_outliving_visibility, tasks_outliving_visibility


def test_a_dead_workers_task_is_delivered_again_within_a_minute_of_its_delivery():
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    assert app.conf.broker_transport_options == options
    # Looked for every unacked_restore_interval seconds, on every look (throttle 1).
    assert options["unacked_restore_throttle"] == 1
    assert options["visibility_timeout"] + options["unacked_restore_interval"] <= 60
    assert settings.CELERY_TASK_ACKS_LATE and settings.CELERY_TASK_REJECT_ON_WORKER_LOST


def test_no_task_acknowledged_late_can_outlive_the_visibility_timeout():
    app.loader.import_default_modules()
    assert {"apps.status.tasks.recompute_persons", "apps.status.tasks.sweep_due"} <= set(app.tasks)
    assert tasks_outliving_visibility(app) == []
    limit = app.tasks["apps.status.tasks.recompute_persons"].time_limit or app.conf.task_time_limit
    assert limit + VISIBILITY_MARGIN <= settings.CELERY_VISIBILITY_TIMEOUT
    # The purge runs for hours: it is acknowledged when it starts, so Redis never hands it out again.
    assert app.tasks["apps.retention.tasks.purge_expired"].acks_late is False


def test_a_task_that_could_outlive_it_is_named_and_the_worker_refuses_to_start(monkeypatch):
    other = Celery("other", set_as_current=False)
    other.conf.update(task_acks_late=True, task_time_limit=30, broker_transport_options={"visibility_timeout": 50})

    @other.task(name="slow", time_limit=3600)
    def slow():
        pass

    @other.task(name="quick")
    def quick():
        pass

    @other.task(name="early", acks_late=False, time_limit=3600)
    def early():
        pass

    assert tasks_outliving_visibility(other) == ["slow (time limit 3600 s, visibility timeout 50 s)"]
    other.conf.broker_transport_options = {}  # kombu's default, an hour: 30 s tasks are fine then
    assert tasks_outliving_visibility(other) == ["slow (time limit 3600 s, visibility timeout 3600 s)"]

    monkeypatch.setattr(celery_config, "app", other)
    other.conf.broker_transport_options = {"visibility_timeout": 50}
    with pytest.raises(SystemExit, match="slow"):
        refuse_tasks_outliving_visibility()
