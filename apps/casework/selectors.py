"""Reads of casework: the community worker's work queue (SPEC §5–7)."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q

from apps.accounts.access import OPEN_APPEAL_STATES, registrations_visible_to
from apps.accounts.choices import Role
from apps.appeals.models import Appeal
from apps.core.clock import now
from apps.people.models import Person
from apps.status.models import Popup

from .choices import RegistrationStatus
from .models import CommunityRegistration

QUEUE_POPUP = 3  # popup ③ (risk area) is what the community verifies and releases
QUEUE_LIMIT = 200


@dataclass(frozen=True)
class QueueItem:
    kind: str  # "popup", "registration", "appeal"
    id: int  # the popup episode, registration or appeal
    person_id: int
    person_ref: str
    display_name: str
    display_id: str
    since: dt.datetime
    label: str = ""
    due_at: dt.datetime | None = None
    overdue: bool = False

    def as_json(self) -> dict:
        return {
            "kind": self.kind,
            "id": str(self.id),
            "person": self.person_ref,
            "display_name": self.display_name,
            "display_id": self.display_id,
            "since": self.since.isoformat(),
            "label": self.label,
            "due_at": self.due_at.isoformat() if self.due_at else None,
            "overdue": self.overdue,
        }


@dataclass(frozen=True)
class WorkQueue:
    items: list[QueueItem]
    counts: dict[str, int]


def _community_filter(user) -> Q | None:
    """Community workers see their own community's work; the CDC sees all of it."""
    if user.is_superuser or user.role == Role.CDC_OFFICER:
        return None
    return Q(pk__in=Person.objects.visible_to(user).values("pk"))


def work_queue(user, *, limit: int = QUEUE_LIMIT) -> WorkQueue:
    """Persons with an active popup ③, pending registrations and appeals routed to the user's
    organisation, oldest first, each list capped at `limit`, with the full counts. Three indexed
    queries and three counts, whatever the size of the community."""
    t = now()
    scope = _community_filter(user)
    person_fields = ("person__ref", "person__display_name", "person__display_id")

    popups = Popup.objects.filter(number=QUEUE_POPUP, ended_at__isnull=True)
    if scope is not None:
        popups = popups.filter(person__in=Person.objects.filter(scope))
    registrations = registrations_visible_to(
        user, CommunityRegistration.objects.filter(status=RegistrationStatus.PENDING)
    )
    appeals = Appeal.objects.filter(status__in=OPEN_APPEAL_STATES)
    if not (user.is_superuser or user.role == Role.CDC_OFFICER):
        appeals = appeals.filter(routed_to_id=user.organisation_id)
    else:
        appeals = appeals.filter(routed_to__kind="cdc")

    items = [
        QueueItem("popup", pk, pid, ref, name, shown, since, label="③")
        for pk, pid, since, ref, name, shown in popups.order_by("since", "pk").values_list(
            "pk", "person_id", "since", *person_fields
        )[:limit]
    ]
    items += [
        QueueItem("registration", pk, pid, ref, name, shown, created, label=str(arriving.date()), due_at=arriving)
        for pk, pid, created, arriving, ref, name, shown in registrations.order_by("created_at", "pk").values_list(
            "pk", "person_id", "created_at", "arriving_at", *person_fields
        )[:limit]
    ]
    items += [
        QueueItem("appeal", pk, pid, ref, name, shown, created, label=number, due_at=due, overdue=due < t)
        for pk, pid, created, due, number, ref, name, shown in appeals.order_by("due_at", "pk").values_list(
            "pk", "person_id", "created_at", "due_at", "tracking_number", *person_fields
        )[:limit]
    ]
    items.sort(key=lambda item: (item.since, item.kind, item.id))
    counts = {
        "popup": popups.count(),
        "registration": registrations.count(),
        "appeal": appeals.count(),
        "overdue_appeal": appeals.filter(due_at__lt=t).count(),
    }
    return WorkQueue(items=items, counts=counts)
