"""The one access layer (SPEC §7): what each user may see and do. Admin lists, change pages,
custom views and the buttons they show, the API and the services all ask this module, and no copy
of its rules lives anywhere else.

For every kind of record there is one rule for seeing and one for acting on an object:

- `visible_to(user, queryset)` narrows a queryset of persons, hotel stays, appeals, community
  registrations, hotels, observation orders or popups (and of any record that belongs to a person,
  through `person_path`) to what the user may see. `Model.objects.visible_to(user)` is the same door.
- `may(user, action, obj=None, **context)` says whether the user's role may take `action` at all
  and, given an object, whether on that one. `require(...)` raises instead: `NotPermitted` (403)
  when the role may not, `NotFoundInJurisdiction` (404) when the object lies outside what the
  user sees — role first, so a hotel clerk asking to release anyone's popup is told "not your
  role", never whether the person exists — and `NotPermitted` again when the object is seen but
  a rule of SPEC §7 refuses it (an order another organisation started).
- `why_visible(user, person)` names the work item through which a role sees a person, for the
  access log (SPEC §7: "the log names that item").
- `ROLE_MODEL_PERMISSIONS` are the admin screens each role opens (read by
  `apps.accounts.backends.RoleBackend`); what a screen shows is still narrowed by `visible_to`.

The workflow models (appeals, registrations, hotel stays) are reached through the app registry,
not imported, and that is by design: this is the one place that knows every visibility rule, so
it reads the tables of the layers above accounts (pyproject.toml: the layers) by name instead of
importing them, which would turn the layers upside down. It imports only what lies below:
core, and the policy in force (a hotel's look-back). The audit, below accounts, asks it through
the doors `access_why_visible` and `access_require` (apps.core.doors).
"""

from collections.abc import Callable

from django.apps import apps
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core.clock import now
from apps.core.errors import NotFoundInJurisdiction, NotPermitted
from apps.policy.selectors import policy_at

from .choices import OrgKind, Role

# Appeals and registrations still giving a community its say over a person.
OPEN_APPEAL_STATES = ("open", "routed", "in_progress")
OPEN_REGISTRATION_STATES = ("pending",)
# Partners see every person within their scopes (a status look-up names the person's ID number).
SEES_EVERYONE = (Role.CDC_OFFICER, Role.PARTNER)


def _model(label: str):
    return apps.get_model(label)


def _active(user) -> bool:
    return user is not None and user.is_authenticated and user.is_active


def _everything(user) -> bool:
    return user.is_superuser or user.role == Role.CDC_OFFICER


# --- seeing ---------------------------------------------------------------------------------------


def _district_of(user) -> QuerySet:
    """The area of the user's organisation (a culture-and-tourism bureau), as a subquery."""
    from .models import Organisation

    return Organisation.objects.filter(pk=user.organisation_id, area_id__isnull=False).values("area_id")


def _hotel_stays_seen(user, queryset: QuerySet) -> QuerySet:
    """Hotel staff: their own hotel's current guests and past guests for `lookback_days`;
    culture-and-tourism officers: the current guests of their district's hotels."""
    if user.role == Role.HOTEL_STAFF:
        t = now()
        since = t - policy_at(t).lookback
        return queryset.filter(hotel_id=user.organisation_id).filter(
            Q(checked_out_at__isnull=True) | Q(checked_out_at__gte=since)
        )
    if user.role == Role.TOURISM_OFFICER:
        return queryset.filter(hotel__area_id__in=_district_of(user), checked_out_at__isnull=True)
    return queryset.none()


def _appeals_seen(user, queryset: QuerySet) -> QuerySet:
    """Hotline operators follow the appeals their centre opened; community workers those routed
    to their community."""
    if user.role == Role.HOTLINE_OPERATOR:
        return queryset.filter(opened_by__organisation_id=user.organisation_id)
    if user.role == Role.COMMUNITY_WORKER:
        return queryset.filter(routed_to_id=user.organisation_id)
    return queryset.none()


def _persons_seen(user, queryset: QuerySet) -> QuerySet:
    """SPEC §7, "may see": residents of the worker's community or persons with an open
    registration or an open appeal there; a hotel's guests; a district's guests; the persons the
    hotline centre's appeals are about."""
    org_id = user.organisation_id
    if user.role == Role.COMMUNITY_WORKER:
        registrations = _model("casework.CommunityRegistration").objects.filter(
            person=OuterRef("pk"), community_id=org_id, status__in=OPEN_REGISTRATION_STATES
        )
        appeals = _model("appeals.Appeal").objects.filter(
            person=OuterRef("pk"), routed_to_id=org_id, status__in=OPEN_APPEAL_STATES
        )
        return queryset.filter(Q(community_id=org_id) | Exists(registrations) | Exists(appeals))
    if user.role in (Role.HOTEL_STAFF, Role.TOURISM_OFFICER):
        stays = _hotel_stays_seen(user, _model("hotels.HotelStay").objects.filter(person=OuterRef("pk")))
        return queryset.filter(Exists(stays))
    if user.role == Role.HOTLINE_OPERATOR:
        appeals = _appeals_seen(user, _model("appeals.Appeal").objects.filter(person=OuterRef("pk")))
        return queryset.filter(Exists(appeals))
    return queryset.none()


def _registrations_seen(user, queryset: QuerySet) -> QuerySet:
    if user.role == Role.COMMUNITY_WORKER:
        return queryset.filter(community_id=user.organisation_id)
    return queryset.none()


def _hotels_seen(user, queryset: QuerySet) -> QuerySet:
    queryset = queryset.filter(kind=OrgKind.HOTEL)
    if user.role == Role.HOTEL_STAFF:
        return queryset.filter(pk=user.organisation_id)
    if user.role == Role.TOURISM_OFFICER:
        return queryset.filter(area_id__in=_district_of(user))
    return queryset.none()


# model label → (the rule for a user who does not see everything, the roles that see every row)
VISIBILITY: dict[str, tuple[Callable[[object, QuerySet], QuerySet], tuple[str, ...]]] = {
    "people.person": (_persons_seen, SEES_EVERYONE),
    "hotels.hotelstay": (_hotel_stays_seen, (Role.CDC_OFFICER,)),
    "hotels.currentguest": (_hotel_stays_seen, (Role.CDC_OFFICER,)),
    "appeals.appeal": (_appeals_seen, (Role.CDC_OFFICER,)),
    "casework.communityregistration": (_registrations_seen, (Role.CDC_OFFICER,)),
    # Organisations: the ones with personal data behind them are hotels (their guests).
    "accounts.organisation": (_hotels_seen, (Role.CDC_OFFICER,)),
    "hotels.hoteloverview": (_hotels_seen, (Role.CDC_OFFICER,)),
    # Release reviews (SPEC §5): auditors and the CDC see every one, nobody else any.
    "reviews.releasereview": (lambda user, queryset: queryset.none(), (Role.AUDITOR, Role.CDC_OFFICER)),
}


def visible_to(user, queryset: QuerySet, *, person_path: str | None = None) -> QuerySet:
    """`queryset` narrowed to the rows `user` may see. Rows of a model with a rule of its own
    (`VISIBILITY`) follow it; any other record that belongs to a person (an order, a popup, a
    stay, a release…) is seen with its person: `person_path` is the lookup to it (default
    `person`)."""
    if not _active(user):
        return queryset.none()
    rule = VISIBILITY.get(queryset.model._meta.label_lower)
    if rule is not None:
        seen, everyone = rule
        if user.is_superuser or user.role in everyone:
            return queryset
        if user.organisation_id is None:
            return queryset.none()
        return seen(user, queryset)
    persons = visible_to(user, _model("people.Person").objects.all())
    if persons.query.is_empty():
        return queryset.none()
    if user.is_superuser or user.role in SEES_EVERYONE:
        return queryset
    return queryset.filter(**{f"{person_path or 'person'}__in": persons.values("pk")})


def is_visible(user, obj, *, person_path: str | None = None) -> bool:
    if obj is None or obj.pk is None:
        return False
    return visible_to(user, type(obj)._default_manager.filter(pk=obj.pk), person_path=person_path).exists()


def why_visible(user, person) -> str:
    """The work item through which the user sees `person`, for the access log: the open appeal
    (hotline, community) or registration (community) or the hotel stay (hotel staff); "" when
    the user sees the person by residence or sees everyone."""
    if not _active(user) or user.is_superuser or user.role in SEES_EVERYONE:
        return ""
    if user.role == Role.COMMUNITY_WORKER and person.community_id == user.organisation_id:
        return ""
    if user.role in (Role.HOTLINE_OPERATOR, Role.COMMUNITY_WORKER):
        appeals = _appeals_seen(user, _model("appeals.Appeal").objects.filter(person=person))
        if user.role == Role.COMMUNITY_WORKER:
            appeals = appeals.filter(status__in=OPEN_APPEAL_STATES)
        number = appeals.order_by("-created_at", "-pk").values_list("tracking_number", flat=True).first()
        if number:
            return _("appeal %(number)s") % {"number": number}
    if user.role == Role.COMMUNITY_WORKER:
        registration = (
            _registrations_seen(user, _model("casework.CommunityRegistration").objects.filter(person=person))
            .filter(status__in=OPEN_REGISTRATION_STATES)
            .values_list("pk", flat=True)
            .first()
        )
        if registration:
            return _("community registration %(id)s") % {"id": registration}
    if user.role in (Role.HOTEL_STAFF, Role.TOURISM_OFFICER):
        stay = (
            _hotel_stays_seen(user, _model("hotels.HotelStay").objects.filter(person=person))
            .order_by("-checked_in_at")
            .values_list("pk", flat=True)
            .first()
        )
        if stay:
            return _("hotel stay %(id)s") % {"id": stay}
    return ""


# --- acting ---------------------------------------------------------------------------------------

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
    "appeal.follow": (Role.HOTLINE_OPERATOR, Role.COMMUNITY_WORKER, Role.CDC_OFFICER),
    # SPEC §6: the hotline resolves 误伤 on the call, on an appeal its centre opened: it records the
    # caller's verified itinerary, and releases popup ③ when all its evidence is city-precision
    # stays that itinerary covers (the evidence test is the service's: apps.appeals.services).
    "appeal.itinerary": (Role.HOTLINE_OPERATOR,),
    "appeal.release_on_call": (Role.HOTLINE_OPERATOR,),
    "hotel.check_in": (Role.HOTEL_STAFF,),
    "hotel.check_out": (Role.HOTEL_STAFF,),
    "hotel.oversee": (Role.HOTEL_STAFF, Role.TOURISM_OFFICER, Role.CDC_OFFICER),
    "audit.read": (Role.AUDITOR,),
    "policy.publish": (Role.POLICY_ADMIN,),
    # SPEC §5: every release is reviewed in the background; auditors decide flagged ones (confirm,
    # or refer to the CDC), the CDC reads them and closes the referrals it handled.
    "release_review.view": (Role.AUDITOR, Role.CDC_OFFICER),
    "release_review.decide": (Role.AUDITOR,),
    "release_review.close": (Role.CDC_OFFICER,),
    # The clear name, ID number and phone numbers of one person, for a reason that is logged.
    "person.reveal": (Role.COMMUNITY_WORKER, Role.CDC_OFFICER),
    # A person's status and reasons (masked), for a role that sees the person.
    "person.look_up": (
        Role.COMMUNITY_WORKER,
        Role.CDC_OFFICER,
        Role.HOTEL_STAFF,
        Role.TOURISM_OFFICER,
        Role.HOTLINE_OPERATOR,
    ),
    # SPEC §7: a person's community of residence is set by a community worker taking in a person
    # who has none (into their own community) or moving a resident away, or by the CDC.
    "person.set_community": (Role.COMMUNITY_WORKER, Role.CDC_OFFICER),
    # Names, birth dates and phones come from the feeds; only the CDC corrects them by hand.
    "person.correct": (Role.CDC_OFFICER,),
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
    "appeal.follow": gettext_lazy("follow appeals"),
    "appeal.itinerary": gettext_lazy("record a caller's itinerary on the call"),
    "appeal.release_on_call": gettext_lazy("release popup ③ on the call"),
    "hotel.check_in": gettext_lazy("check guests in"),
    "hotel.check_out": gettext_lazy("check guests out"),
    "hotel.oversee": gettext_lazy("oversee hotels"),
    "audit.read": gettext_lazy("read the audit"),
    "policy.publish": gettext_lazy("publish designations and policy"),
    "release_review.view": gettext_lazy("read release reviews"),
    "release_review.decide": gettext_lazy("decide release reviews"),
    "release_review.close": gettext_lazy("close referred release reviews"),
    "person.reveal": gettext_lazy("see unmasked personal data"),
    "person.look_up": gettext_lazy("look up persons"),
    "person.set_community": gettext_lazy("change a person's community of residence"),
    "person.correct": gettext_lazy("correct a person's name, birth date or phones"),
}

# Roles that see unmasked personal data (SPEC §7: masked unless the role needs it). With
# settings.STAFF_OTP_REQUIRED their sessions, and superusers', must pass the TOTP second factor.
SECOND_FACTOR_ROLES = ACTION_ROLES["person.reveal"]


def needs_second_factor(user) -> bool:
    """Whether this staff user's session must pass the second factor before any staff page."""
    if user is None or not user.is_authenticated or getattr(user, "is_partner", False):
        return False
    return user.is_superuser or user.role in SECOND_FACTOR_ROLES


def _role_may(user, action: str) -> bool:
    if not _active(user) or getattr(user, "is_partner", False):
        return False
    return user.is_superuser or user.role in ACTION_ROLES[action]


def _person_of(obj):
    """The person an object of an action belongs to (a person is its own)."""
    if obj._meta.label_lower == "people.person":
        return obj
    return obj.person


class Refused(Exception):
    """An object rule's answer when the object is seen but SPEC §7 refuses the action on it."""

    def __init__(self, message: str):
        self.message = message


def _on_person(user, obj, **context) -> None:
    if not is_visible(user, _person_of(obj)):
        raise NotFoundInJurisdiction(_("No such person."))


def _order_end(user, order, **context) -> None:
    """CDC officers end any order; a community worker ends the home orders their community
    started (SPEC §7)."""
    _on_person(user, order)
    if _everything(user):
        return
    if order.kind != "home" or order.issuer_org_id != user.organisation_id:
        raise Refused(_("Only the organisation that started this order, or the CDC, may end it."))


def _registration(user, registration, **context) -> None:
    if not is_visible(user, registration):
        raise NotFoundInJurisdiction(_("No such registration."))


def _appeal_follow(user, appeal, **context) -> None:
    if not is_visible(user, appeal):
        raise NotFoundInJurisdiction(_("No such appeal."))


def appeals_to_resolve(user, queryset: QuerySet) -> QuerySet:
    """The appeals the user resolves (SPEC §6): those routed to their own organisation (a
    community's workers), and for CDC officers those routed to a CDC. The work queue lists them
    and `appeal.resolve` checks one of them by the same rule."""
    if not _role_may(user, "appeal.resolve"):
        return queryset.none()
    if user.is_superuser:
        return queryset
    routed_here = Q(routed_to_id=user.organisation_id) if user.organisation_id else Q(pk__in=[])
    if user.role == Role.CDC_OFFICER:
        routed_here |= Q(routed_to__kind=OrgKind.CDC)
    return queryset.filter(routed_here)


def _appeal_resolve(user, appeal, **context) -> None:
    if not appeals_to_resolve(user, type(appeal)._default_manager.filter(pk=appeal.pk)).exists():
        raise NotFoundInJurisdiction(_("No such appeal."))


def _hotel_stay(user, hotel_stay, **context) -> None:
    """A hotel's staff act on their own hotel's stays only."""
    if user.is_superuser:
        return
    if hotel_stay.hotel_id != user.organisation_id or not is_visible(user, hotel_stay):
        raise NotFoundInJurisdiction(_("No such hotel stay."))


def _set_community(user, person, *, community=None, **context) -> None:
    """SPEC §7: the CDC sets any person's community; a community worker takes in a person they
    see who has none, into their own community, or moves a resident of their own community away
    (to another community or to none) as a correction."""
    _on_person(user, person)
    if _everything(user):
        return
    own = user.organisation_id
    target = community.pk if community is not None else None
    if person.community_id is None and target == own:
        return
    if person.community_id == own and target != own:
        return
    raise Refused(
        _("A community worker takes in a person who has no community into their own, or moves their own resident away.")
    )


# action → the rule on its object (after the role check). Actions without one take no object.
OBJECT_RULES: dict[str, Callable] = {
    "popup.release": _on_person,
    "order.start.home": _on_person,
    "order.start.centralized": _on_person,
    "order.end": _order_end,
    "itinerary.verify": _on_person,
    "registration.decide": _registration,
    "registration.list": _registration,
    "appeal.route": _appeal_follow,
    "appeal.follow": _appeal_follow,
    "appeal.itinerary": _appeal_follow,
    "appeal.release_on_call": _appeal_follow,
    "appeal.resolve": _appeal_resolve,
    "hotel.check_out": _hotel_stay,
    "person.reveal": _on_person,
    "person.look_up": _on_person,
    "person.set_community": _set_community,
    "person.correct": _on_person,
}


def require(user, action: str, obj=None, **context) -> None:
    """Raise unless the user may take `action` (on `obj`, when given): 403 for the role, 404 for
    an object outside the user's jurisdiction, 403 for a rule of SPEC §7 on an object seen."""
    if not _role_may(user, action):
        raise NotPermitted(_("Your role may not %(action)s.") % {"action": ACTION_LABELS.get(action, action)})
    if obj is None:
        return
    rule = OBJECT_RULES.get(action)
    if rule is None:
        return
    try:
        rule(user, obj, **context)
    except Refused as refused:
        raise NotPermitted(refused.message) from None


def may(user, action: str, obj=None, **context) -> bool:
    """Whether the user may take `action` (on `obj`, when given); see `require`."""
    try:
        require(user, action, obj, **context)
    except (NotPermitted, NotFoundInJurisdiction):
        return False
    return True


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
        "view:areas.area,policy.riskdesignation,policy.localcasereport,policy.borderportcounty",
        "add:status.release,evidence.observationorder,casework.itineraryverification",
        "change:casework.communityregistration,appeals.appeal",
    ),
    Role.HOTEL_STAFF: _perms("view:people.person,status.personstatus,hotels.hotelstay", "add+change:hotels.hotelstay"),
    Role.TOURISM_OFFICER: _perms("view:accounts.organisation,hotels.hotelstay,people.person,status.personstatus"),
    Role.HOTLINE_OPERATOR: _perms(
        "view:people.person,status.personstatus,appeals.appeal,appeals.appealevent", "add+change:appeals.appeal"
    ),
    Role.POLICY_ADMIN: _perms(
        "view:areas.area,policy.policyversion",
        "view+add:policy.riskdesignation,policy.localcasereport,policy.borderportcounty,policy.policyversion",
        "change:policy.borderportcounty",
    ),
    Role.AUDITOR: _perms(
        "view:audit.auditevent,audit.accesslog,status.release,status.releaseattachment,appeals.appealevent"
    ),
}
ROLE_MODEL_PERMISSIONS[Role.HOTEL_STAFF] |= _perms("view:hotels.currentguest")
ROLE_MODEL_PERMISSIONS[Role.TOURISM_OFFICER] |= _perms("view:hotels.currentguest,hotels.hoteloverview")
ROLE_MODEL_PERMISSIONS[Role.AUDITOR] |= _perms("view:reviews.releasereview")
# The sealed audit (apps.audit.chain): auditors read the signed checkpoints and the leaves they cover.
ROLE_MODEL_PERMISSIONS[Role.AUDITOR] |= _perms("view:audit.auditcheckpoint,audit.auditleaf,audit.auditleafpurge")
ROLE_MODEL_PERMISSIONS[Role.CDC_OFFICER] |= _perms("view:reviews.releasereview")
# The trust list of other regions' credential keys (SPEC §11, 互认) is policy: policy administrators
# keep it (a key is ended by its valid_to, never deleted); auditors read it.
ROLE_MODEL_PERMISSIONS[Role.POLICY_ADMIN] |= _perms("view+add+change:credentials.trustedissuer,credentials.trustedkey")
ROLE_MODEL_PERMISSIONS[Role.AUDITOR] |= _perms("view:credentials.trustedissuer,credentials.trustedkey")
