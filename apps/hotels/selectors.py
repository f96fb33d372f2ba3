"""Reads of hotel registrations: the current guests a user may see, and the hotels of a district
with their guests counted by state (SPEC §7: hotel staff see their own hotel's guests, culture-and-
tourism officers the hotels and guests of their district, CDC officers everyone)."""

from django.db.models import Count, Q, QuerySet

from apps.accounts.choices import OrgKind
from apps.accounts.models import Organisation
from apps.status.choices import State
from apps.status.models import PersonStatus

from .models import HotelStay


def hotel_stays_visible_to(user, queryset: QuerySet | None = None) -> QuerySet:
    """Hotel stays of the hotels the user oversees (apps.accounts.access, SPEC §7)."""
    return (HotelStay.objects.all() if queryset is None else queryset).visible_to(user)


def current_guests(user) -> QuerySet:
    """The guests still checked in at the hotels the user oversees, oldest check-in first."""
    return (
        hotel_stays_visible_to(user)
        .filter(checked_out_at__isnull=True)
        .select_related("person", "hotel")
        .order_by("checked_in_at", "pk")
    )


def guest_statuses(person_ids) -> QuerySet:
    """The stored status rows of these guests (one query)."""
    return PersonStatus.objects.filter(person_id__in=list(person_ids)).only("person_id", "state")


def hotels_visible_to(user, queryset: QuerySet | None = None) -> QuerySet:
    """The hotels the user oversees (apps.accounts.access, SPEC §7)."""
    return (Organisation.objects.all() if queryset is None else queryset).filter(kind=OrgKind.HOTEL).visible_to(user)


STATE_COUNTS = ("green", "popup", "yellow", "red")


def hotels_overview(user, queryset: QuerySet | None = None) -> QuerySet:
    """The hotels the user oversees, each annotated with its current guests (`guests`) and those
    guests counted by stored state (`green`, `popup`, `yellow`, `red`; a guest whose status was
    never computed is in `guests` only). One aggregate query for the whole district."""
    current = Q(guest_stays__checked_out_at__isnull=True)
    counts = {"guests": Count("guest_stays", filter=current)}
    for state in STATE_COUNTS:
        counts[state] = Count("guest_stays", filter=current & Q(guest_stays__person__status__state=State(state)))
    return hotels_visible_to(user, queryset).select_related("area").annotate(**counts)
