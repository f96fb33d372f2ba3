"""Reads of casework: the community worker's work queue and a person's evidence timeline (SPEC §5–7)."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Prefetch, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core import doors
from apps.core.clock import LOCAL_TZ, now
from apps.evidence.models import (
    Association,
    DeclaredPlace,
    HealthEvent,
    InboundArrival,
    ItineraryDeclaration,
    LabResult,
    ObservationOrder,
    Stay,
)
from apps.people.models import Person, Phone
from apps.policy.selectors import policy_at
from apps.status.engine.registry import circled, queued_numbers
from apps.status.models import Popup, Release

from .choices import RegistrationStatus
from .models import CommunityRegistration, ItineraryVerification

# The popups the community verifies and releases from its queue (popup ③, risk areas).
QUEUE_POPUPS = queued_numbers()
QUEUE_LABEL = "".join(circled(n) for n in QUEUE_POPUPS)
QUEUE_LIMIT = 200


@dataclass(frozen=True)
class QueueItem:
    kind: str  # "popup", "registration", "appeal", "review"
    id: int  # the popup episode, registration or appeal; for a referred review, the release
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


def work_queue(user, *, limit: int = QUEUE_LIMIT) -> WorkQueue:
    """Persons with an active popup ③, pending registrations and appeals routed to the user's
    organisation, oldest first, each list capped at `limit`, with the full counts. Three indexed
    queries and three counts, whatever the size of the community."""
    t = now()
    person_fields = ("person__ref", "person__display_name", "person__display_id")

    popups = Popup.objects.filter(number__in=QUEUE_POPUPS, ended_at__isnull=True).visible_to(user)
    registrations = CommunityRegistration.objects.filter(status=RegistrationStatus.PENDING).visible_to(user)
    # The appeals come from the layer above (apps.appeals) through a door: casework never imports it.
    appeals = doors.appeals_to_resolve(user)

    items = [
        QueueItem("popup", pk, pid, ref, name, shown, since, label=circled(number))
        for pk, pid, since, number, ref, name, shown in popups.order_by("since", "pk").values_list(
            "pk", "person_id", "since", "number", *person_fields
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
    # Release reviews an auditor referred to the CDC, still open (apps.reviews, through its door).
    reviews, review_count = doors.reviews_referred_queue(user=user, limit=limit)
    items += reviews
    items.sort(key=lambda item: (item.since, item.kind, item.id))
    counts = {
        "popup": popups.count(),
        "registration": registrations.count(),
        "appeal": appeals.count(),
        "overdue_appeal": appeals.filter(due_at__lt=t).count(),
        "review": review_count,
    }
    return WorkQueue(items=items, counts=counts)


# --- the person page: the evidence timeline ------------------------------------------------------

TIMELINE_PER_KIND = 100  # the newest records of each kind; older ones are in the record lists

# The kinds of evidence a status reason names and the timeline shows, as staff read them.
EVIDENCE_KINDS = {
    "stay": gettext_lazy("Stay"),
    "lab_result": gettext_lazy("Lab result"),
    "health_event": gettext_lazy("Health event"),
    "inbound_arrival": gettext_lazy("Inbound arrival"),
    "observation_order": gettext_lazy("Observation order"),
    "association": gettext_lazy("Association"),
    "declaration": gettext_lazy("Declaration"),
    "release": gettext_lazy("Release"),
    "registration": gettext_lazy("Registration"),
    "verification": gettext_lazy("Verification"),
    "designation": gettext_lazy("Risk designation"),
    "local_case": gettext_lazy("Local case report"),
    "border_port": gettext_lazy("Border-port county"),
}


@dataclass(frozen=True)
class TimelineEntry:
    """One record on a person's evidence timeline. `kind` matches the evidence kinds of a status
    reason (`stay`, `observation_order`…), so a reason can point at its entry (`anchor`)."""

    kind: str
    id: int
    at: dt.datetime
    title: str
    detail: str = ""
    until: dt.datetime | None = None
    source: str = ""
    precision: str = ""
    learnt_at: dt.datetime | None = None
    actor: str = ""
    tone: str = ""  # "risk", "clear" or "": how the page colours the entry
    active: bool = False  # an order in force, a registration waiting for a decision
    obj: object = None

    @property
    def anchor(self) -> str:
        return f"ev-{self.kind}-{self.id}"

    @property
    def kind_label(self) -> str:
        return str(EVIDENCE_KINDS.get(self.kind, self.kind))


@dataclass(frozen=True)
class Timeline:
    entries: list[TimelineEntry]
    truncated: tuple[str, ...]  # kinds with more than TIMELINE_PER_KIND records


def _newest(queryset, per_kind: int) -> tuple[list, bool]:
    rows = list(queryset[: per_kind + 1])
    return rows[:per_kind], len(rows) > per_kind


def _user(user) -> str:
    return user.get_username() if user is not None else ""


def person_timeline(person: Person, *, per_kind: int = TIMELINE_PER_KIND) -> Timeline:
    """Everything on record about one person, newest first: stays (also the telecom stays of the
    phone numbers bound to them) with their precision and source, lab results, health events,
    inbound arrivals, observation orders, associations, itinerary declarations, releases,
    community registrations and itinerary verifications.

    One query per kind (two for declarations and their places), whatever the number of records:
    the page of a person with a thousand stays costs what the page of a person with one does.
    The caller has already checked that the user may see the person."""
    t = now()
    entries: list[TimelineEntry] = []
    truncated: list[str] = []

    def take(kind, queryset):
        rows, more = _newest(queryset, per_kind)
        if more:
            truncated.append(kind)
        return rows

    # A number's stays belong to the person only while the number did (SPEC §2, as the engine
    # counts them): overlapping its binding until `phone_unbind_days` after unbinding. Another
    # holder's movements before or after are never shown.
    unbind_grace = dt.timedelta(days=policy_at(t).phone_unbind_days)
    through_phones = Q(pk__in=[])
    for phone in Phone.objects.filter(person=person).only("number_hash", "bound_at", "unbound_at"):
        held = Q(phone_hash=phone.number_hash) & (Q(departed_at__isnull=True) | Q(departed_at__gte=phone.bound_at))
        if phone.unbound_at is not None:
            held &= Q(arrived_at__lt=phone.unbound_at + unbind_grace)
        through_phones |= held
    stays = Stay.objects.filter(Q(person=person) | through_phones).select_related("area")
    for s in take("stay", stays.order_by("-arrived_at", "-pk")):
        details = []
        if s.person_id != person.pk:
            details.append(_("through a phone number bound to the person"))
        if s.refunded:
            details.append(_("refunded: not a stay"))
        entries.append(
            TimelineEntry(
                "stay",
                s.pk,
                s.arrived_at,
                title=f"{s.area.full_name} ({s.area_id})",
                detail="; ".join(details),
                until=s.departed_at,
                source=s.get_source_display(),
                precision=s.get_precision_display(),
                learnt_at=s.ingested_at,
                tone="" if s.refunded else "place",
            )
        )

    for r in take("lab_result", LabResult.objects.filter(person=person).order_by("-sampled_at", "-pk")):
        entries.append(
            TimelineEntry(
                "lab_result",
                r.pk,
                r.sampled_at,
                title=_("NAT %(result)s") % {"result": r.get_result_display()},
                detail=r.institution,
                source=r.source,
                learnt_at=r.ingested_at,
                tone="clear" if r.result == "negative" else "risk",
            )
        )

    for e in take("health_event", HealthEvent.objects.filter(person=person).order_by("-occurred_at", "-pk")):
        entries.append(
            TimelineEntry(
                "health_event",
                e.pk,
                e.occurred_at,
                title=e.get_kind_display(),
                detail=e.detail,
                source=e.source,
                learnt_at=e.ingested_at,
            )
        )

    for a in take("inbound_arrival", InboundArrival.objects.filter(person=person).order_by("-entered_at", "-pk")):
        entries.append(
            TimelineEntry(
                "inbound_arrival",
                a.pk,
                a.entered_at,
                title=_("Entered the country at %(port)s") % {"port": a.port or "-"},
                until=a.quarantine_completed_at,
                source=a.source,
                learnt_at=a.ingested_at,
            )
        )

    orders = ObservationOrder.objects.filter(person=person).select_related("issuer_org", "issued_by")
    for o in take("observation_order", orders.order_by("-starts_at", "-pk")):
        in_force = o.ended_at is None and o.starts_at <= t and (o.ends_at is None or o.ends_at > t)
        upcoming = o.ended_at is None and o.starts_at > t
        if o.ended_at is not None:
            detail = _("ended early: %(reason)s") % {"reason": o.end_reason or "-"}
        else:
            detail = o.reason
        entries.append(
            TimelineEntry(
                "observation_order",
                o.pk,
                o.starts_at,
                title=o.get_kind_display(),
                detail=detail,
                until=o.ended_at or o.ends_at,
                source=o.issuer_org.name if o.issuer_org else o.source,
                learnt_at=o.ingested_at,
                actor=_user(o.issued_by),
                tone="risk" if in_force else "",
                active=in_force or upcoming,
                obj=o,
            )
        )

    for a in take("association", Association.objects.filter(person=person).order_by("-observed_at", "-pk")):
        entries.append(
            TimelineEntry(
                "association",
                a.pk,
                a.observed_at,
                title=a.get_kind_display(),
                detail=a.detail,
                source=a.source,
                learnt_at=a.ingested_at,
                tone="risk",
            )
        )

    declarations = ItineraryDeclaration.objects.filter(person=person).prefetch_related(
        Prefetch("places", queryset=DeclaredPlace.objects.select_related("area"))
    )
    for d in take("declaration", declarations.order_by("-submitted_at", "-pk")):
        places = "、".join(p.area.full_name for p in d.places.all())
        entries.append(
            TimelineEntry(
                "declaration",
                d.pk,
                d.submitted_at,
                title=_("Itinerary declaration"),
                detail=places,
                source=d.source,
                learnt_at=d.ingested_at,
            )
        )

    releases = Release.objects.filter(person=person).select_related("actor", "actor_org")
    for r in take("release", releases.order_by("-created_at", "-pk")):
        entries.append(
            TimelineEntry(
                "release",
                r.pk,
                r.created_at,
                title=_("Popup %(number)s released (release #%(id)s)") % {"number": r.popup_number, "id": r.pk},
                detail=r.reason,
                source=r.actor_org.name if r.actor_org else "",
                actor=_user(r.actor),
                tone="clear",
            )
        )

    registrations = CommunityRegistration.objects.filter(person=person).select_related(
        "community", "from_area", "decided_by"
    )
    for g in take("registration", registrations.order_by("-created_at", "-pk")):
        detail = _("arriving %(when)s from %(area)s") % {
            "when": g.arriving_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M"),
            "area": g.from_area.full_name if g.from_area else "-",
        }
        if g.decision_note:
            detail += f"; {g.decision_note}"
        entries.append(
            TimelineEntry(
                "registration",
                g.pk,
                g.created_at,
                title=_("Registered with %(community)s: %(status)s")
                % {"community": g.community.name, "status": g.get_status_display()},
                detail=detail,
                actor=_user(g.decided_by),
                active=g.status == RegistrationStatus.PENDING,
                obj=g,
            )
        )

    verifications = ItineraryVerification.objects.filter(person=person).select_related("verified_by")
    for v in take("verification", verifications.order_by("-verified_at", "-pk")):
        entries.append(
            TimelineEntry(
                "verification",
                v.pk,
                v.verified_at,
                title=_("Itinerary verified remotely") if v.remote else _("Itinerary verified in person"),
                detail=v.note,
                actor=_user(v.verified_by),
                tone="clear",
            )
        )

    entries.sort(key=lambda e: (e.at, e.kind, e.id), reverse=True)
    return Timeline(entries=entries, truncated=tuple(truncated))
