"""The one access layer (SPEC §7): which persons a user may see, which actions their role may
take, and on whom. Admin lists, detail pages and actions, the API, the selectors and the services
all go through this module; nothing bypasses it.

- `persons_visible_to(user, queryset)` narrows any person queryset to what the user may see
  (`Person.objects.visible_to(user)` is the same door).
- `require(user, action)` raises `NotPermitted` (403) when the role may not take the action at all;
  `require_on_person(user, action, person)` also raises `NotFoundInJurisdiction` (404) when the
  person lies outside the user's jurisdiction. Role first, then jurisdiction: a hotel clerk asking
  to release anyone's popup is told "not your role", never whether the person exists.
- `ROLE_MODEL_PERMISSIONS` are the admin screens each role may open (read by
  `apps.accounts.backends.RoleBackend`); what a screen shows is still narrowed per person.
"""

import datetime as dt

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core.clock import now
from apps.core.errors import NotFoundInJurisdiction, NotPermitted

from .choices import OrgKind, Role

# Appeals and registrations still giving a community its say over a person.
OPEN_APPEAL_STATES = ("open", "routed", "in_progress")
OPEN_REGISTRATION_STATES = ("pending",)
SEES_EVERYONE = (Role.CDC_OFFICER, Role.PARTNER)

# --- seeing -------------------------------------------------------------------------------------


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


def person_is_visible(user, person) -> bool:
    from apps.people.models import Person

    return persons_visible_to(user, Person.objects.filter(pk=person.pk)).exists()


# --- acting -------------------------------------------------------------------------------------

# Which roles may take each action at all (SPEC §5, §7). Jurisdiction is checked on top.
ACTION_ROLES: dict[str, tuple[str, ...]] = {
    "popup.release": (Role.COMMUNITY_WORKER, Role.CDC_OFFICER),
    "order.start.home": (Role.COMMUNITY_WORKER, Role.CDC_OFFICER),
    "order.start.centralized": (Role.CDC_OFFICER,),
    "order.end": (Role.COMMUNITY_WORKER, Role.CDC_OFFICER),
    "itinerary.verify": (Role.COMMUNITY_WORKER, Role.CDC_OFFICER),
    "registration.decide": (Role.COMMUNITY_WORKER, Role.CDC_OFFICER),
    "registration.list": (Role.COMMUNITY_WORKER, Role.CDC_OFFICER),
    "appeal.open": (Role.HOTLINE_OPERATOR,),
    "appeal.route": (Role.HOTLINE_OPERATOR,),
    "appeal.resolve": (Role.COMMUNITY_WORKER, Role.CDC_OFFICER),
    "hotel.check_in": (Role.HOTEL_STAFF,),
    "hotel.check_out": (Role.HOTEL_STAFF,),
    "audit.read": (Role.AUDITOR,),
    "policy.publish": (Role.POLICY_ADMIN,),
    # The clear name, ID number and phone numbers of one person, for a reason that is logged.
    "person.reveal": (Role.COMMUNITY_WORKER, Role.CDC_OFFICER),
}

ACTION_LABELS = {
    "popup.release": gettext_lazy("release popups"),
    "order.start.home": gettext_lazy("start home observation"),
    "order.start.centralized": gettext_lazy("start centralised observation"),
    "order.end": gettext_lazy("end observation orders"),
    "itinerary.verify": gettext_lazy("verify itineraries"),
    "registration.decide": gettext_lazy("decide community registrations"),
    "registration.list": gettext_lazy("list community registrations"),
    "appeal.open": gettext_lazy("open appeals"),
    "appeal.route": gettext_lazy("route appeals"),
    "appeal.resolve": gettext_lazy("resolve appeals"),
    "hotel.check_in": gettext_lazy("check guests in"),
    "hotel.check_out": gettext_lazy("check guests out"),
    "audit.read": gettext_lazy("read the audit"),
    "policy.publish": gettext_lazy("publish designations and policy"),
    "person.reveal": gettext_lazy("see unmasked personal data"),
}

# Roles that see unmasked personal data (SPEC §7: masked unless the role needs it). With
# settings.STAFF_OTP_REQUIRED their sessions, and superusers', must pass the TOTP second factor.
SECOND_FACTOR_ROLES = ACTION_ROLES["person.reveal"]


def needs_second_factor(user) -> bool:
    """Whether this staff user's session must pass the second factor before any staff page."""
    if user is None or not user.is_authenticated or getattr(user, "is_partner", False):
        return False
    return user.is_superuser or user.role in SECOND_FACTOR_ROLES


def may(user, action: str) -> bool:
    """Whether the user's role may take `action` at all (superusers may take every action)."""
    if user is None or not user.is_authenticated or not user.is_active or getattr(user, "is_partner", False):
        return False
    return user.is_superuser or user.role in ACTION_ROLES[action]


def require(user, action: str) -> None:
    if not may(user, action):
        raise NotPermitted(_("Your role may not %(action)s.") % {"action": ACTION_LABELS.get(action, action)})


def require_on_person(user, action: str, person) -> None:
    """The role may take the action, and the person is inside the user's jurisdiction."""
    require(user, action)
    if not person_is_visible(user, person):
        raise NotFoundInJurisdiction(_("No such person."))


def require_order_start(user, person, kind: str) -> None:
    require_on_person(user, f"order.start.{kind}", person)


def require_order_end(user, order) -> None:
    """CDC officers end any order; a community worker ends the home orders their community
    started (SPEC §7)."""
    require_on_person(user, "order.end", order.person)
    if user.is_superuser or user.role == Role.CDC_OFFICER:
        return
    if order.kind != "home" or order.issuer_org_id != user.organisation_id:
        raise NotPermitted(_("Only the organisation that started this order, or the CDC, may end it."))


def require_registration(user, registration, action: str = "registration.decide") -> None:
    require(user, action)
    if user.is_superuser or user.role == Role.CDC_OFFICER:
        return
    if registration.community_id != user.organisation_id:
        raise NotFoundInJurisdiction(_("No such registration."))


def require_appeal_resolve(user, appeal) -> None:
    """Only the organisation an appeal is routed to resolves it: the community's workers, or the
    CDC's officers for an appeal routed to a CDC (SPEC §6)."""
    require(user, "appeal.resolve")
    if user.is_superuser:
        return
    if appeal.routed_to_id is None or appeal.routed_to_id != user.organisation_id:
        if not (
            user.role == Role.CDC_OFFICER and appeal.routed_to is not None and appeal.routed_to.kind == OrgKind.CDC
        ):
            raise NotFoundInJurisdiction(_("No such appeal."))


def registrations_visible_to(user, queryset: QuerySet) -> QuerySet:
    if not may(user, "registration.list"):
        return queryset.none()
    if user.is_superuser or user.role == Role.CDC_OFFICER:
        return queryset
    return queryset.filter(community_id=user.organisation_id)


# --- admin screens ------------------------------------------------------------------------------


def _perms(*specs: str) -> frozenset[str]:
    """`"view:people.person,status.personstatus"` → {"people.view_person", "status.view_personstatus"}."""
    out = set()
    for spec in specs:
        actions, models = spec.split(":")
        for model in models.split(","):
            app, name = model.strip().split(".")
            for action in actions.split("+"):
                out.add(f"{app}.{action}_{name}")
    return frozenset(out)


PERSON_RECORDS = (
    "people.person,people.phone,status.personstatus,status.popup,status.release,status.releaseattachment,"
    "evidence.stay,evidence.labresult,evidence.healthevent,evidence.inboundarrival,evidence.observationorder,"
    "evidence.association,evidence.itinerarydeclaration"
)

ROLE_MODEL_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.COMMUNITY_WORKER: _perms(
        f"view:{PERSON_RECORDS}",
        "view:casework.communityregistration,casework.itineraryverification,appeals.appeal,appeals.appealevent",
        "add:status.release,evidence.observationorder,casework.itineraryverification",
        "change:casework.communityregistration,appeals.appeal",
    ),
    Role.CDC_OFFICER: _perms(
        f"view:{PERSON_RECORDS}",
        "view:casework.communityregistration,casework.itineraryverification,appeals.appeal,appeals.appealevent",
        "view:areas.area,areas.riskdesignation,areas.localcasereport,areas.borderportcounty",
        "add:status.release,evidence.observationorder,casework.itineraryverification",
        "change:casework.communityregistration,appeals.appeal",
    ),
    Role.HOTEL_STAFF: _perms("view:people.person,status.personstatus,hotels.hotelstay", "add+change:hotels.hotelstay"),
    Role.TOURISM_OFFICER: _perms("view:accounts.organisation,hotels.hotelstay,people.person,status.personstatus"),
    Role.HOTLINE_OPERATOR: _perms(
        "view:people.person,status.personstatus,appeals.appeal,appeals.appealevent", "add+change:appeals.appeal"
    ),
    Role.POLICY_ADMIN: _perms(
        "view:areas.area,areas.policyversion",
        "view+add:areas.riskdesignation,areas.localcasereport,areas.borderportcounty,areas.policyversion",
        "change:areas.borderportcounty",
    ),
    Role.AUDITOR: _perms(
        "view:audit.auditevent,audit.accesslog,status.release,status.releaseattachment,appeals.appealevent"
    ),
}
ROLE_MODEL_PERMISSIONS[Role.HOTEL_STAFF] |= _perms("view:hotels.currentguest")
ROLE_MODEL_PERMISSIONS[Role.TOURISM_OFFICER] |= _perms("view:hotels.currentguest,hotels.hoteloverview")
