"""The sealer of the audit (celery beat `audit-seal`, every minute): a thin wrapper around
`audit_seal`. Idempotent and safe to retry: it seals from where the log ends, and the advisory
lock keeps two runs from overlapping."""

from celery import shared_task

from . import services


@shared_task(acks_late=True)
def seal() -> int | None:
    """Seal what is settled and sign a checkpoint; the rows sealed, None when another run holds the lock."""
    result = services.audit_seal()
    return None if result is None else result.count
