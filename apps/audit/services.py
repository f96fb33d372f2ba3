"""Writing the audit: business events of manual changes and look-ups of one person's record."""

from apps.accounts import access
from apps.core.clock import now

from .models import AccessLog, AuditEvent


def audit_event_record(
    *, kind: str, actor, person=None, reason: str = "", detail: dict | None = None, origin: str = "api"
) -> AuditEvent:
    """Append a manual change (`popup.released`, `designation.published`…) to the audit."""
    return AuditEvent.objects.create(
        kind=kind,
        actor=actor,
        actor_org_id=getattr(actor, "organisation_id", None),
        person=person,
        at=now(),
        reason=reason,
        detail=detail or {},
        origin=origin,
    )


def access_log_record(*, actor, person, why: str, via: str = "api") -> AccessLog | None:
    """Log a staff look-up of one person's record. When the actor sees the person only through a
    work item (the hotline through an appeal; a community through an open registration or an
    appeal routed to it; a hotel through a guest's stay), the entry names that item (SPEC §7),
    whatever reason the caller gave. Partner systems are not staff: their reads are governed by
    their scopes and not logged per person."""
    if actor is None or not actor.is_authenticated or getattr(actor, "is_partner", False):
        return None
    why = (why or "").strip()
    item = access.why_visible(actor, person)
    if item and item not in why:
        why = f"{why} ({item})" if why else item
    return AccessLog.objects.create(actor=actor, person=person, at=now(), why=why[:500] or "-", via=via)
