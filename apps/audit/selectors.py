"""Reading the audit (SPEC §5, §7): auditors see every manual change and every look-up."""

from django.utils.translation import gettext as _

from apps.core import doors
from apps.core.errors import NotFoundInJurisdiction

from .choices import AuditKind
from .models import AccessLog, AuditEvent

# The `kind` of a look-up in the person's audit (a manual change's is its AuditKind).
LOOKUP_KIND = "lookup"


def person_audit(*, user, person_ref: str, kind: str | None = None, limit: int = 10_000) -> tuple[object, list[dict]]:
    """Every manual change and staff look-up of one person, oldest first: `kind`, `actor`
    (username), `at`, `reason` (changes) or `why` (look-ups), and `detail` (the checklist, the
    status before and after). Only auditors (and superusers) read it. With `kind` (an AuditKind
    value, or "lookup"), only the entries of that kind."""
    # The audit sits below people and accounts (pyproject.toml: the layers): it asks the access
    # layer through a door and finds the person through its own foreign key.
    doors.access_require(user, "audit.read")
    person = AuditEvent._meta.get_field("person").related_model.objects.filter(ref=person_ref).first()
    if person is None:
        raise NotFoundInJurisdiction(_("No such person."))
    events = AuditEvent.objects.filter(person=person).select_related("actor", "actor_org").order_by("at", "pk")
    looks = AccessLog.objects.filter(person=person).select_related("actor").order_by("at", "pk")
    if kind == LOOKUP_KIND:
        events = events.none()
    elif kind:
        events, looks = events.filter(kind=AuditKind(kind)), looks.none()
    entries = [
        {
            "id": f"change-{e.pk}",
            "kind": e.kind,
            "actor": e.actor.username if e.actor else None,
            "organisation": e.actor_org.code if e.actor_org else None,
            "at": e.at,
            "reason": e.reason,
            "origin": e.origin,
            "detail": e.detail,
        }
        for e in events[:limit]
    ]
    entries += [
        {
            "id": f"lookup-{a.pk}",
            "kind": LOOKUP_KIND,
            "actor": a.actor.username,
            "organisation": None,
            "at": a.at,
            "why": a.why,
            "origin": a.via,
            "detail": {},
        }
        for a in looks[:limit]
    ]
    entries.sort(key=lambda entry: (entry["at"], entry["id"]))
    for entry in entries:
        entry["at"] = entry["at"].isoformat()
    return person, entries
