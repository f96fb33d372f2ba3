"""The daily retention purge (celery beat `retention-purge`): a thin wrapper around the services.
Idempotent and safe to retry: each batch commits on its own and a re-run only finds what is left."""

from celery import shared_task
from django.db import OperationalError

from . import services


# Acknowledged on start, not late: it runs for up to hours, longer than the broker's visibility
# timeout (config/settings/base.py), after which Redis would hand a late-acknowledged run to another
# worker. A run lost with its worker is finished by the next day's (the purge resumes where it stopped).
@shared_task(bind=True, acks_late=False, max_retries=3, soft_time_limit=3 * 3600, time_limit=3 * 3600 + 300)
def purge_expired(self) -> dict[str, int] | None:
    """Run every purge; None when another run holds the lock (it does the work)."""
    try:
        with services.purge_lock() as acquired:
            if not acquired:
                return None
            return services.purge_expired()
    except OperationalError as exc:  # database blips: retry with back-off, the purge is idempotent
        raise self.retry(exc=exc, countdown=min(600, 30 * 2**self.request.retries)) from exc
