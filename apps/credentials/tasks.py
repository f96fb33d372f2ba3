"""The purge of expired credentials' notes (celery beat `credentials-purge`, hourly): a thin
wrapper around `issued_credentials_purge`. Idempotent: it deletes what has expired, whoever runs."""

from celery import shared_task

from . import services


@shared_task(acks_late=True, time_limit=600)
def purge_issued() -> int:
    """Delete the notes of credentials that have expired; how many."""
    return services.issued_credentials_purge()
