"""Thin, idempotent Celery tasks around the status services. They take ids, recompute from the
current facts, and are safe to retry."""

from celery import shared_task

from apps.core.db import SWEEP_LOCK, advisory_try_lock

from . import services


# Time limits: CELERY_TASK_TIME_LIMIT, below the broker's visibility timeout (config/settings/base.py).
@shared_task(bind=True, acks_late=True, max_retries=5, default_retry_delay=2)
def recompute_persons(self, person_ids: list[int]) -> int:
    try:
        services.status_refresh_many(person_ids=person_ids)
    except Exception as exc:  # database blips: retry with back-off, recomputation is idempotent
        raise self.retry(exc=exc, countdown=min(60, 2**self.request.retries)) from exc
    return len(person_ids)


@shared_task(acks_late=True)
def fanout_areas(county_codes: list[str]) -> int:
    return services.status_fanout_areas(county_codes=county_codes)


@shared_task
def sweep_due() -> int:
    """Periodic (celery beat, every minute): recompute statuses whose next change has come."""
    with advisory_try_lock(SWEEP_LOCK) as acquired:
        return services.status_sweep() if acquired else 0  # 0: another sweep is running
