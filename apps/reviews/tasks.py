"""Thin, idempotent review tasks: they take a release id and call the service, which owes nothing
once the review is written (a redelivery or a duplicate changes nothing)."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import services


# Acknowledged late (a worker dying mid-review leaves the message for another worker) with the
# global time limit, CELERY_TASK_TIME_LIMIT, below the broker's visibility timeout.
@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=16,
    max_retries=5,
)
def release_review(self, release_id: int) -> str | None:
    review = services.release_review_run(release_id=release_id)
    return review.status if review is not None else None


@shared_task
def sweep_due_reviews() -> int:
    """Periodic (celery beat, every minute): send again the reviews whose run is overdue."""
    return services.reviews_sweep()
