"""The purge of expired credentials' notes (celery beat `credentials-purge`, hourly): a thin
wrapper around `issued_credentials_purge`. Idempotent: it deletes what has expired, whoever runs."""

from celery import shared_task

from . import services


# Acknowledged early (not late): a purge of a busy day's notes may outrun the broker's visibility
# timeout, and Redis would hand a late-acknowledged one to a second worker while it still ran
# (config/celery.py refuses such a task). A purge lost with its worker is simply redone by the next
# hourly run.
@shared_task(acks_late=False, time_limit=600)
def purge_issued() -> int:
    """Delete the notes of credentials that have expired; how many."""
    return services.issued_credentials_purge()
