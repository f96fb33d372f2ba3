"""Reads of hotel registrations: the current guests a user may see, and the hotels of a district
with their guests counted by state (SPEC §7: hotel staff see their own hotel's guests, culture-and-
tourism officers the hotels and guests of their district, CDC officers everyone)."""

from django.db.models import Count, Q, QuerySet

from apps.accounts.choices import OrgKind, Role
from apps.accounts.models import Organisation
from apps.areas.selectors import policy_at
from apps.core.clock import now
from apps.status.choices import State
from apps.status.models import PersonStatus

from .models import HotelStay


def hotel_stays_visible_to(user, queryset: QuerySet | None = None) -> QuerySet:
    """Hotel stays of the hotels the user oversees (SPEC §7): their own hotel's current guests and
    past guests for `lookback_days` (hotel staff), the current guests of their district's hotels
    (tourism officers), all (CDC officers, superusers)."""
    queryset = HotelStay.objects.all() if queryset is None else queryset
    if user is None or not user.is_authenticated or not user.is_active:
        return queryset.none()
    if user.is_superuser or user.role == Role.CDC_OFFICER:
        return queryset
    if user.organisation_id is None:
        return queryset.none()
    if user.role == Role.HOTEL_STAFF:
        t = now()
        since = t - policy_at(t).lookback
        return queryset.filter(hotel_id=user.organisation_id).filter(
            Q(checked_out_at__isnull=True) | Q(checked_out_at__gte=since)
        )
    if user.role == Role.TOURISM_OFFICER:
        return queryset.filter(hotel__area_id__in=_district_of(user), checked_out_at__isnull=True)
    return queryset.none()


def _district_of(user) -> QuerySet:
    """The area of the officer's bureau, as a subquery (no extra round trip)."""
    return Organisation.objects.filter(pk=user.organisation_id, area_id__isnull=False).values("area_id")


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
    queryset = Organisation.objects.all() if queryset is None else queryset
    queryset = queryset.filter(kind=OrgKind.HOTEL)
    if user is None or not user.is_authenticated or not user.is_active:
        return queryset.none()
    if user.is_superuser or user.role == Role.CDC_OFFICER:
        return queryset
    if user.organisation_id is None:
        return queryset.none()
    if user.role == Role.HOTEL_STAFF:
        return queryset.filter(pk=user.organisation_id)
    if user.role == Role.TOURISM_OFFICER:
        return queryset.filter(area_id__in=_district_of(user))
    return queryset.none()


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
