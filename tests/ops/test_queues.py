"""Queues by urgency (config/celery.py route_task, CELERY_TASK_ROUTES): one person's recomputation
goes to `urgent`, fan-outs, sweeps and upkeep to `bulk`, and what a bulk task sends stays in bulk."""

import pytest

from config.celery import BULK, URGENT, app, route_task

RECOMPUTE = "apps.status.tasks.recompute_persons"


def queue_of(name, args=(), kwargs=None, options=None) -> str:
    """The queue Celery's own router picks (route_task merged with the options given)."""
    return app.amqp.router.route(dict(options or {}), name, args, kwargs or {})["queue"].name


@pytest.fixture(autouse=True)
def _urgent_up_to_50(settings):
    settings.CELERY_URGENT_MAX_PERSONS = 50


def test_a_recomputation_of_up_to_the_limit_is_urgent_and_one_more_is_bulk():
    assert queue_of(RECOMPUTE, ([7],)) == URGENT
    assert queue_of(RECOMPUTE, (list(range(50)),)) == URGENT
    assert queue_of(RECOMPUTE, (list(range(51)),)) == BULK
    assert queue_of(RECOMPUTE, (), {"person_ids": list(range(51))}) == BULK
    assert queue_of(RECOMPUTE, (), {"person_ids": [1]}) == URGENT


def test_fanouts_sweeps_and_upkeep_are_bulk_and_a_releases_review_urgent():
    for name in (
        "apps.status.tasks.fanout_areas",
        "apps.status.tasks.sweep_due",
        "apps.reviews.tasks.sweep_due_reviews",
        "apps.audit.tasks.seal",
        "apps.retention.tasks.purge_expired",
    ):
        assert queue_of(name) == BULK, name
    assert queue_of("apps.reviews.tasks.release_review", (1,)) == URGENT
    assert queue_of("apps.some.tasks.new_one") == BULK, "a task nobody routed is bulk work (the default queue)"
    assert route_task("apps.some.tasks.new_one", (), {}, {}) is None


def test_a_queue_given_when_sending_wins():
    assert queue_of("apps.status.tasks.fanout_areas", options={"queue": URGENT}) == URGENT


def test_what_a_bulk_task_sends_stays_bulk_whatever_its_size(db, monkeypatch):  # db: the sweep's lock
    from apps.status import services
    from apps.status.tasks import sweep_due

    sent = []
    monkeypatch.setattr(services, "status_sweep", lambda: sent.append(route_task(RECOMPUTE, ([1],), {}, {})) or 1)
    assert sweep_due.apply().get() == 1  # run as a task (current_task is the sweep), in this process
    assert sent == [{"queue": BULK}]


def test_a_worker_without_q_consumes_both_queues():
    assert sorted(app.amqp.queues) == [BULK, URGENT]
    assert app.conf.task_default_queue == BULK
