"""The one access layer (SPEC §7): which persons a user may see. Admin lists, detail pages,
actions, the API and selectors all go through `persons_visible_to`; nothing bypasses it.

Seeing a person is not changing them: what a role may *do* is decided by the services, which
check `can_act_on` with the same jurisdiction rules.
"""

import datetime as dt

from django.db.models import Exists, OuterRef, Q, QuerySet

from apps.core.clock import now

from .choices import Role

# Appeals and registrations still giving a community its say over a person.
OPEN_APPEAL_STATES = ("open", "routed", "in_progress")
OPEN_REGISTRATION_STATES = ("pending",)
SEES_EVERYONE = (Role.CDC_OFFICER, Role.PARTNER)


def persons_visible_to(user, queryset: QuerySet) -> QuerySet:
    from apps.appeals.models import Appeal
    from apps.areas.selectors import policy_at
    from apps.casework.models import CommunityRegistration
    from apps.hotels.models import HotelStay

    if user is None or not user.is_authenticated or not user.is_active:
        return queryset.none()
    if user.is_superuser or user.role in SEES_EVERYONE:
        return queryset
    org_id = user.organisation_id
    if org_id is None:
        return queryset.none()
    if user.role == Role.COMMUNITY_WORKER:
        registrations = CommunityRegistration.objects.filter(
            person=OuterRef("pk"), community_id=org_id, status__in=OPEN_REGISTRATION_STATES
        )
        appeals = Appeal.objects.filter(person=OuterRef("pk"), routed_to_id=org_id, status__in=OPEN_APPEAL_STATES)
        return queryset.filter(Q(community_id=org_id) | Exists(registrations) | Exists(appeals))
    if user.role == Role.HOTEL_STAFF:
        t = now()
        since = t - dt.timedelta(days=policy_at(t).lookback_days)
        stays = HotelStay.objects.filter(person=OuterRef("pk"), hotel_id=org_id).filter(
            Q(checked_out_at__isnull=True) | Q(checked_out_at__gte=since)
        )
        return queryset.filter(Exists(stays))
    if user.role == Role.TOURISM_OFFICER:
        area_id = user.organisation.area_id
        stays = HotelStay.objects.filter(person=OuterRef("pk"), hotel__area_id=area_id, checked_out_at__isnull=True)
        return queryset.filter(Exists(stays)) if area_id else queryset.none()
    if user.role == Role.HOTLINE_OPERATOR:
        appeals = Appeal.objects.filter(person=OuterRef("pk"), opened_by__organisation_id=org_id)
        return queryset.filter(Exists(appeals))
    return queryset.none()
