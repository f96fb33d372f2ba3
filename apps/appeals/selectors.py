"""Reads of appeals: which appeals a user may follow, the hotline's view of one appeal (with the
person's masked status and reasons) and the overdue ones."""

import datetime as dt

from django.db.models import Q

from apps.core.clock import LOCAL_TZ as _TZ

from .choices import OPEN_STATES
from .models import Appeal


def appeals_visible_to(user, queryset=None):
    """The appeals a user may follow (apps.accounts.access: those their hotline centre opened,
    those routed to their community, all for the CDC)."""
    return (Appeal.objects.all() if queryset is None else queryset).visible_to(user)


def overdue_q(at: dt.datetime) -> Q:
    """Appeals still open after their deadline (at `due_at` itself not yet)."""
    return Q(status__in=OPEN_STATES, due_at__lt=at)


def appeal_json(appeal: Appeal, at: dt.datetime, *, events: bool = False) -> dict:
    """An appeal as the API shows it: the person masked, the caller's phone masked."""
    body = {
        "id": str(appeal.pk),
        "tracking_number": appeal.tracking_number,
        "person": appeal.person.ref,
        "display_name": appeal.person.display_name,
        "display_id": appeal.person.display_id,
        "channel": appeal.channel,
        "category": appeal.category,
        "description": appeal.description,
        "caller_phone": appeal.caller_phone_display or None,
        "status": appeal.status,
        "routed_to": appeal.routed_to.code if appeal.routed_to else None,
        "routed_to_name": appeal.routed_to.name if appeal.routed_to else None,
        "routing_basis": appeal.routing_basis or None,
        "due_at": local_iso(appeal.due_at),
        "overdue": appeal.is_overdue(at),
        "opened_at": local_iso(appeal.created_at),
        "resolved_at": local_iso(appeal.resolved_at) if appeal.resolved_at else None,
        "resolution": appeal.resolution or None,
    }
    if events:
        body["events"] = [
            {
                "at": local_iso(e.at),
                "from": e.from_status or None,
                "to": e.to_status,
                "routed_to": e.routed_to.code if e.routed_to else None,
                "actor": e.actor.username,
                "reason": e.reason,
            }
            for e in appeal.events.select_related("routed_to", "actor").order_by("at", "pk")
        ]
    return body


def local_iso(moment) -> str:
    """A moment as ISO 8601 with the Beijing offset (API.md: times with offset)."""
    return moment.astimezone(_TZ).isoformat()
