"""Writing the audit: business events of manual changes and look-ups of one person's record."""

from apps.core import doors
from apps.core.clock import now
from apps.core.db import AUDIT_SEAL_LOCK, advisory_try_lock
from apps.core.origin import current_origin

from . import chain
from .choices import AccessVia, AuditKind, Origin
from .models import AccessLog, AuditEvent


def audit_event_record(
    *,
    kind: AuditKind,
    actor,
    person=None,
    reason: str = "",
    detail: dict | None = None,
    origin: Origin | None = None,
) -> AuditEvent:
    """Append a manual change (`AuditKind.POPUP_RELEASED`…) to the audit. `kind` must be an
    `AuditKind` (a string that is none raises ValueError); `origin` is the request's, task's or
    command's (`apps.core.origin.current_origin`) unless given."""
    return AuditEvent.objects.create(
        kind=AuditKind(kind),
        actor=actor,
        actor_org_id=getattr(actor, "organisation_id", None),
        person=person,
        at=now(),
        reason=reason,
        detail=detail or {},
        origin=Origin(origin) if origin else current_origin(),
    )


def access_log_record(*, actor, person, why: str, via: AccessVia = AccessVia.API) -> AccessLog | None:
    """Log a staff look-up of one person's record. When the actor sees the person only through a
    work item (the hotline through an appeal; a community through an open registration or an
    appeal routed to it; a hotel through a guest's stay), the entry names that item (SPEC §7),
    whatever reason the caller gave. Partner systems are not staff: their reads are governed by
    their scopes and not logged per person."""
    if actor is None or not actor.is_authenticated or getattr(actor, "is_partner", False):
        return None
    why = (why or "").strip()
    item = doors.access_why_visible(actor, person)  # the access layer sits above the audit
    if item and item not in why:
        why = f"{why} ({item})" if why else item
    return AccessLog.objects.create(actor=actor, person=person, at=now(), why=why[:500] or "-", via=AccessVia(via))


def audit_seal(*, wait: float | None = None, max_rows: int | None = None):
    """Seal the audit rows not yet sealed and sign a checkpoint (apps.audit.chain: which rows, in
    what order, and why no look-up waits for it). Returns the `SealResult`, or None when another
    sealer holds the lock (it does the work)."""
    with advisory_try_lock(AUDIT_SEAL_LOCK) as acquired:
        if not acquired:
            return None
        return chain.seal(
            wait=chain.SEAL_WAIT_SECONDS if wait is None else wait,
            max_rows=chain.SEAL_MAX_ROWS if max_rows is None else max_rows,
        )
