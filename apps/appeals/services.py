"""Hotline appeals (SPEC §6, §7): a person who thinks their status is wrong (误伤) calls 12345,
12326 or 12306; the operator opens an appeal, which is routed to the community of residence, else
the community of an open registration (京心相助), else the CDC; the hotline may re-route it by hand;
the organisation it is routed to starts work on it and resolves it — optionally releasing the
person's popups with the verification checklist — or rejects it.

Every state change is an `AppealEvent` (who, from, to, where, why) and an audit event. Each
category has a deadline (`choices.DEADLINE_HOURS`) counted from the opening.
"""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Length
from django.utils.translation import gettext as _

from apps.accounts import access
from apps.accounts.choices import OrgKind
from apps.accounts.models import Organisation
from apps.audit.choices import AuditKind, Origin
from apps.audit.services import audit_event_record
from apps.casework.models import CommunityRegistration
from apps.casework.services import CHECKLIST, OnCall, popups_release
from apps.core import crypto
from apps.core.clock import LOCAL_TZ, now
from apps.core.errors import Conflict, NotFoundInJurisdiction
from apps.core.masking import mask_phone
from apps.evidence.choices import EvidenceOrigin
from apps.evidence.services import declaration_places_check, declaration_record
from apps.people.selectors import person_by_id
from apps.people.services import phone_normalise
from apps.status.selectors import status_payload
from apps.status.services import status_current, status_refresh

from .choices import DEADLINE_HOURS, OPEN_STATES, AppealStatus, Category, Channel, RoutingBasis
from .models import Appeal, AppealEvent
from .selectors import appeal_declaration_prefix, popup3_call_evidence

ROUTABLE_KINDS = (OrgKind.COMMUNITY, OrgKind.CDC)


# --- routing ------------------------------------------------------------------------------------


def appeal_destination(person) -> tuple[Organisation | None, str]:
    """Where an appeal about `person` goes (SPEC §6), and why: the community of residence; else the
    community of their most recent open registration; else the CDC (the active CDC organisation
    with the smallest code, so the choice is always the same). (None, "none") when there is none."""
    if person.community_id is not None:
        community = Organisation.objects.filter(pk=person.community_id, kind=OrgKind.COMMUNITY, is_active=True).first()
        if community is not None:
            return community, RoutingBasis.RESIDENCE
    registration = (
        CommunityRegistration.objects.filter(
            person=person,
            status__in=access.OPEN_REGISTRATION_STATES,
            community__kind=OrgKind.COMMUNITY,
            community__is_active=True,
        )
        .select_related("community")
        .order_by("-created_at", "-pk")
        .first()
    )
    if registration is not None:
        return registration.community, RoutingBasis.REGISTRATION
    cdc = Organisation.objects.filter(kind=OrgKind.CDC, is_active=True).order_by("code").first()
    if cdc is not None:
        return cdc, RoutingBasis.CDC
    return None, RoutingBasis.NONE


def appeal_due_at(category: str, opened_at: dt.datetime) -> dt.datetime:
    return opened_at + dt.timedelta(hours=DEADLINE_HOURS[category])


def _tracking_prefix(t: dt.datetime) -> str:
    return f"AP{t.astimezone(LOCAL_TZ):%Y%m%d}"


def _next_tracking_number(t: dt.datetime) -> str:
    """ "AP" + the local date + a four-digit sequence of the day: AP20210816-0007."""
    prefix = _tracking_prefix(t)
    last = (
        Appeal.objects.filter(tracking_number__startswith=prefix + "-")
        # By length first: "…-10000" sorts below "…-9999" as text.
        .order_by(Length("tracking_number").desc(), "-tracking_number")
        .values_list("tracking_number", flat=True)
        .first()
    )
    sequence = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}-{sequence:04d}"


# --- the caller's side: open, route (hotline) -----------------------------------------------------


def _event(appeal: Appeal, *, actor, from_status: str, reason: str, at: dt.datetime) -> AppealEvent:
    return AppealEvent.objects.create(
        appeal=appeal,
        from_status=from_status,
        to_status=appeal.status,
        routed_to=appeal.routed_to,
        actor=actor,
        reason=reason,
        at=at,
    )


def _audit(kind: AuditKind, appeal: Appeal, *, actor, reason: str, origin: Origin | None, **detail) -> None:
    audit_event_record(
        kind=kind,
        actor=actor,
        person=appeal.person,
        reason=reason,
        origin=origin,
        detail={
            "appeal": str(appeal.pk),
            "tracking_number": appeal.tracking_number,
            "status": appeal.status,
            "routed_to": appeal.routed_to.code if appeal.routed_to else None,
            **detail,
        },
    )


def _close(appeal: Appeal, *, status: str, resolution: str, at: dt.datetime) -> str:
    """Close an appeal (resolved or rejected) with the resolution the caller is given; returns
    the status it had."""
    previous = appeal.status
    appeal.status = status
    appeal.resolved_at = at
    appeal.resolution = resolution
    appeal._change_reason = resolution[:100]
    appeal.save(update_fields=["status", "resolved_at", "resolution", "updated_at"])
    return previous


def _required_text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: [message]})
    return value


@transaction.atomic
def appeal_open(
    *,
    actor,
    id_type: str,
    id_number: str,
    channel: str,
    category: str,
    description: str,
    caller_phone: str = "",
    name: str = "",
    origin: Origin | None = None,
) -> Appeal:
    """Open an appeal for a caller (hotline operators). It is routed at once by SPEC §6 and is due
    `DEADLINE_HOURS[category]` hours from now. `name`, the name the caller gives, is never stored
    over the person's (SPEC §7: names come from the feeds); an unknown ID number answers 404. The caller's phone is kept encrypted and shown
    masked; the caller is given the tracking number."""
    access.require(actor, "appeal.open")
    errors = {}
    if channel not in Channel.values:
        errors["channel"] = [_("Choose one of: %(c)s.") % {"c": ", ".join(Channel.values)}]
    if category not in Category.values:
        errors["category"] = [_("Choose one of: %(c)s.") % {"c": ", ".join(Category.values)}]
    if not (description or "").strip():
        errors["description"] = [_("Describe what the caller reports.")]
    phone = ""
    if (caller_phone or "").strip():
        try:
            phone = phone_normalise(caller_phone)
        except ValidationError:
            errors["caller_phone"] = [_("A phone number has 5 to 20 digits.")]
    if errors:
        raise ValidationError(errors)
    # SPEC §7: an appeal never creates or renames a person (the name the caller gives is theirs
    # to give, the stored one comes from the feeds); an ID number the portal does not know answers
    # 404 and creates nothing, like a status look-up.
    person = person_by_id(id_type=id_type, id_number=id_number)
    if person is None:
        raise NotFoundInJurisdiction(_("No person with this ID number is on record."))
    t = now()
    routed_to, basis = appeal_destination(person)
    appeal = None
    for _attempt in range(5):
        try:
            with transaction.atomic():
                appeal = Appeal.objects.create(
                    tracking_number=_next_tracking_number(t),
                    person=person,
                    channel=channel,
                    category=category,
                    description=description.strip(),
                    caller_phone_encrypted=crypto.encrypt(phone) if phone else "",
                    caller_phone_display=mask_phone(phone) if phone else "",
                    status=AppealStatus.ROUTED if routed_to else AppealStatus.OPEN,
                    routed_to=routed_to,
                    routing_basis=basis,
                    due_at=appeal_due_at(category, t),
                    opened_by=actor,
                )
            break
        except IntegrityError:  # two operators took the same sequence number: take the next
            continue
    if appeal is None:
        raise Conflict(_("Could not give the appeal a tracking number; try again."), code="tracking_number")
    reason = RoutingBasis(basis).label
    _event(appeal, actor=actor, from_status="", reason=str(reason), at=t)
    _audit(
        AuditKind.APPEAL_OPENED,
        appeal,
        actor=actor,
        reason=description.strip(),
        origin=origin,
        channel=channel,
        category=category,
        routing_basis=basis,
        due_at=appeal.due_at.isoformat(),
    )
    return appeal


def appeal_visible(actor, appeal_id, *, lock: bool = False) -> Appeal:
    """The appeal, when the actor may follow it (404 otherwise)."""
    queryset = Appeal.objects.visible_to(actor).select_related("person", "routed_to", "opened_by")
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    try:
        return queryset.get(pk=int(appeal_id))
    except (Appeal.DoesNotExist, ValueError, TypeError):
        raise NotFoundInJurisdiction(_("No such appeal.")) from None


def _require_open(appeal: Appeal, allowed=OPEN_STATES) -> None:
    if appeal.status not in allowed:
        raise Conflict(
            _("This appeal is %(status)s: it can no longer be changed.") % {"status": appeal.get_status_display()},
            code="closed",
        )


@transaction.atomic
def appeal_route(*, actor, appeal_id, to: Organisation | str, reason: str, origin: Origin | None = None) -> Appeal:
    """Re-route an appeal by hand (the hotline centre that opened it) to another community or a
    CDC, with the reason. Work already started there starts again at the new organisation."""
    access.require(actor, "appeal.route")
    appeal = appeal_visible(actor, appeal_id, lock=True)
    reason = _required_text(reason, "reason", _("Write why the appeal is re-routed."))
    _require_open(appeal)
    target = to
    if isinstance(to, str):
        target = Organisation.objects.filter(code=to).first()
    if target is None or target.kind not in ROUTABLE_KINDS or not target.is_active:
        raise ValidationError({"routed_to": [_("Route an appeal to a community or a CDC.")]})
    if target.pk == appeal.routed_to_id:
        raise ValidationError({"routed_to": [_("The appeal is already routed there.")]})
    t = now()
    previous_status, previous_org = appeal.status, appeal.routed_to
    appeal.routed_to = target
    appeal.routing_basis = RoutingBasis.MANUAL
    appeal.status = AppealStatus.ROUTED
    appeal._change_reason = reason[:100]
    appeal.save(update_fields=["routed_to", "routing_basis", "status", "updated_at"])
    _event(appeal, actor=actor, from_status=previous_status, reason=reason, at=t)
    _audit(
        AuditKind.APPEAL_ROUTED,
        appeal,
        actor=actor,
        reason=reason,
        origin=origin,
        from_status=previous_status,
        routed_from=previous_org.code if previous_org else None,
    )
    return appeal


# --- the organisation's side: start, resolve, reject ---------------------------------------------


def _appeal_for_handler(actor, appeal_id) -> Appeal:
    """The appeal, locked, when the actor's organisation is the one it is routed to."""
    access.require(actor, "appeal.resolve")
    try:
        appeal = (
            Appeal.objects.select_for_update(of=("self",)).select_related("person", "routed_to").get(pk=int(appeal_id))
        )
    except (Appeal.DoesNotExist, ValueError, TypeError):
        raise NotFoundInJurisdiction(_("No such appeal.")) from None
    access.require(actor, "appeal.resolve", appeal)
    return appeal


@transaction.atomic
def appeal_start(*, actor, appeal_id, note: str = "", origin: Origin | None = None) -> Appeal:
    """The organisation the appeal is routed to starts work on it (routed → in progress)."""
    appeal = _appeal_for_handler(actor, appeal_id)
    _require_open(appeal, (AppealStatus.ROUTED,))
    t = now()
    appeal.status = AppealStatus.IN_PROGRESS
    appeal.save(update_fields=["status", "updated_at"])
    note = (note or "").strip()
    _event(appeal, actor=actor, from_status=AppealStatus.ROUTED, reason=note, at=t)
    _audit(AuditKind.APPEAL_STARTED, appeal, actor=actor, reason=note, origin=origin)
    return appeal


@transaction.atomic
def appeal_resolve(
    *,
    actor,
    appeal_id,
    resolution: str,
    release_popups: bool = False,
    checklist: dict | None = None,
    origin: Origin | None = None,
) -> tuple[Appeal, dict | None]:
    """Resolve an appeal (the community workers of the community it is routed to, or CDC officers
    for one routed to a CDC), writing the resolution for the caller. With `release_popups` the
    person's active popups are released through `popups_release` — the resolution is the reason,
    and the verification checklist must be complete (SPEC §5). Returns the appeal and the person's
    status after a release (None without one)."""
    appeal = _appeal_for_handler(actor, appeal_id)
    _require_open(appeal, (AppealStatus.ROUTED, AppealStatus.IN_PROGRESS))
    resolution = _required_text(resolution, "resolution", _("Write the resolution for the caller."))
    t = now()
    detail = {}
    status_after = None
    if release_popups:
        # Released before the appeal closes: the open appeal is what puts the person in the
        # community's jurisdiction.
        outcome = popups_release(
            actor=actor, person_ids=[appeal.person_id], reason=resolution, checklist=checklist or {}, origin=origin
        )
        detail["releases"] = [str(r.pk) for rs in outcome.releases.values() for r in rs]
        detail["release_skipped"] = {str(k): str(v) for k, v in outcome.skipped.items()}
        status_after = outcome.statuses.get(appeal.person_id)
        if status_after is None:
            status_after = status_payload(appeal.person, status_current(person_id=appeal.person_id))
    previous = _close(appeal, status=AppealStatus.RESOLVED, resolution=resolution, at=t)
    _event(appeal, actor=actor, from_status=previous, reason=resolution, at=t)
    _audit(
        AuditKind.APPEAL_RESOLVED,
        appeal,
        actor=actor,
        reason=resolution,
        origin=origin,
        release_popups=release_popups,
        overdue=appeal.due_at < t,
        **detail,
    )
    return appeal, status_after


@transaction.atomic
def appeal_reject(*, actor, appeal_id, reason: str, origin: Origin | None = None) -> Appeal:
    """Close an appeal without a change (not a status problem, a duplicate call…), with the
    reason given to the caller: by the organisation it is routed to, or by the hotline centre
    that opened it."""
    if access.may(actor, "appeal.route") and not actor.is_superuser:
        appeal = appeal_visible(actor, appeal_id, lock=True)
    else:
        appeal = _appeal_for_handler(actor, appeal_id)
    reason = _required_text(reason, "reason", _("Write why the appeal is rejected."))
    _require_open(appeal)
    t = now()
    previous = _close(appeal, status=AppealStatus.REJECTED, resolution=reason, at=t)
    _event(appeal, actor=actor, from_status=previous, reason=reason, at=t)
    _audit(AuditKind.APPEAL_REJECTED, appeal, actor=actor, reason=reason, origin=origin, from_status=previous)
    return appeal


# --- the hotline on the call: itinerary and release (SPEC §6) -------------------------------------

MAX_PLACES = 60


class OnCallRefused(Conflict):
    """Popup ③ has evidence the hotline may not release on the call (SPEC §6): each piece is
    named (`evidence`, `selectors.CallEvidence`); it must go to the community or CDC (HTTP 409)."""

    def __init__(self, message: str, *, evidence: list):
        super().__init__(message, code="not_on_call")
        self.evidence = evidence


def _on_call_appeal(actor, action: str, appeal_id) -> Appeal:
    """The open appeal, locked, when the actor is an operator of the centre that opened it: 403
    for another role (before anything about the appeal is said), 404 for another centre's."""
    access.require(actor, action)
    appeal = appeal_visible(actor, appeal_id, lock=True)
    access.require(actor, action, appeal)
    _require_open(appeal)
    return appeal


def _places_on_call(places, entered_beijing_at, t: dt.datetime) -> list[dict]:
    """The places as the service stores them, with field errors for what the caller cannot have
    done yet (a time after now) or too many places for one call."""
    if not isinstance(places, list | tuple) or not places:
        raise ValidationError({"places": [_("Record at least one county the caller stayed in.")]})
    if len(places) > MAX_PLACES:
        raise ValidationError({"places": [_("At most %(n)d places on one call.") % {"n": MAX_PLACES}]})
    errors = {}
    cleaned = []
    for index, place in enumerate(places):
        arrived, departed = place.get("arrived_at"), place.get("departed_at")
        if not isinstance(arrived, dt.datetime):
            errors[f"places[{index}].arrived_at"] = [_("Give the arrival time.")]
            continue
        for name, moment in (("arrived_at", arrived), ("departed_at", departed)):
            if moment is not None and moment > t:
                errors[f"places[{index}].{name}"] = [_("This time is in the future.")]
        cleaned.append(
            {"area_code": str(place.get("area_code") or "").strip(), "arrived_at": arrived, "departed_at": departed}
        )
    if entered_beijing_at is not None and entered_beijing_at > t:
        errors["entered_beijing_at"] = [_("This time is in the future.")]
    if errors:
        raise ValidationError(errors)
    return cleaned


def _status_now(person) -> dict:
    return status_payload(person, status_current(person_id=person.pk))


@transaction.atomic
def appeal_itinerary_record(
    *,
    actor,
    appeal_id,
    places: list[dict],
    entered_beijing_at: dt.datetime | None = None,
    reason: str,
    origin: Origin | None = None,
):
    """Record the caller's itinerary, verified county by county on the call, as a declaration made
    on their behalf (SPEC §4, §6) by an operator of the centre that opened the appeal. It is the
    person's declaration in every respect — each place also a county-precision stay, so a declared
    medium/high county raises ③(a), and it verifies the city-precision stays it covers by itself
    when every county is low risk and a negative NAT was sampled within `entry_nat_window_hours`
    before `entered_beijing_at` (or after it) — with the operator and the appeal as its provenance
    (the ingestion's `submitted_by` and payload, the declaration's external id). A manual change:
    the reason, an appeal event and an audit event with the status before and after; the status is
    recomputed. Returns (appeal, the new status, the declaration)."""
    appeal = _on_call_appeal(actor, "appeal.itinerary", appeal_id)
    reason = _required_text(reason, "reason", _("Write how the itinerary was verified on the call."))
    t = now()
    places = _places_on_call(places, entered_beijing_at, t)
    declaration_places_check(places)
    person = appeal.person
    before = _status_now(person)
    declaration = declaration_record(
        actor=actor,
        person=person,
        entered_beijing_at=entered_beijing_at,
        places=places,
        origin=EvidenceOrigin.STAFF,
        feed="itinerary-on-call",
        provenance={
            "appeal": str(appeal.pk),
            "tracking_number": appeal.tracking_number,
            "recorded_by": actor.username,
            "reason": reason,
        },
        reference_prefix=appeal_declaration_prefix(appeal),
    )
    after = status_payload(person, status_refresh(person_id=person.pk))
    counties = "、".join(p["area_code"] for p in places)
    _event(
        appeal,
        actor=actor,
        from_status=appeal.status,
        reason=_("Itinerary recorded on the call (%(counties)s): %(reason)s")
        % {"counties": counties, "reason": reason},
        at=t,
    )
    _audit(
        AuditKind.APPEAL_ITINERARY_RECORDED,
        appeal,
        actor=actor,
        reason=reason,
        origin=origin,
        declaration=str(declaration.pk),
        entered_beijing_at=entered_beijing_at.isoformat() if entered_beijing_at else None,
        places=[
            {
                "area_code": p["area_code"],
                "arrived_at": p["arrived_at"].isoformat(),
                "departed_at": p["departed_at"].isoformat() if p["departed_at"] else None,
            }
            for p in places
        ],
        status_before=before,
        status_after=after,
    )
    return appeal, after, declaration


def _refusal(offending: list, appeal: Appeal) -> OnCallRefused:
    where = appeal.routed_to.name if appeal.routed_to else _("the community or CDC")
    pieces = "；".join(f"{e.label()}：{e.why}" for e in offending)
    return OnCallRefused(
        _(
            "Popup ③ cannot be released on the call. %(pieces)s. Evidence other than city-precision stays "
            "covered by the recorded itinerary must go to the community or CDC (%(where)s)."
        )
        % {"pieces": pieces, "where": where},
        evidence=offending,
    )


@transaction.atomic
def appeal_release_on_call(*, actor, appeal_id, reason: str, checklist: dict, origin: Origin | None = None):
    """Release popup ③ on the call (SPEC §6), by an operator of the centre that opened the appeal,
    with the reason and the full checklist (SPEC §5), when every piece of its evidence in the
    current status reasons is a city-precision stay covered by the itinerary recorded on this
    appeal (`selectors.popup3_call_evidence`). Otherwise 409 (`OnCallRefused`) naming each piece
    that is not — a stay in a risk county, an association, an uncovered city stay — which must
    go to the community or CDC; their own release path is unchanged. The test runs inside
    `casework.popups_release` on the status recomputed after the release's watermark, so it judges
    exactly the evidence the release covers; later evidence raises the popup again, naming the
    release (返黄). The appeal is resolved with the reason. Returns (appeal, the new status, the
    releases)."""
    appeal = _on_call_appeal(actor, "appeal.release_on_call", appeal_id)
    reason = _required_text(reason, "reason", _("Write how the caller's itinerary was verified."))
    judged: list = []

    def admit(row) -> None:
        evidence = popup3_call_evidence(appeal, row)
        if not evidence:
            raise Conflict(_("Popup ③ is not active: there is nothing to release."), code="not_active")
        offending = [e for e in evidence if not e.releasable]
        if offending:
            raise _refusal(offending, appeal)
        judged.extend(evidence)

    outcome = popups_release(
        actor=actor,
        person_ids=[appeal.person_id],
        numbers=[3],
        reason=reason,
        checklist=checklist or {},
        origin=origin,
        strict=True,
        on_call=OnCall(appeal=appeal, admit=admit),
    )
    releases = outcome.releases[appeal.person_id]
    after = outcome.statuses[appeal.person_id]
    t = now()
    previous = _close(appeal, status=AppealStatus.RESOLVED, resolution=reason, at=t)
    _event(
        appeal,
        actor=actor,
        from_status=previous,
        reason=_("Popup ③ released on the call (release %(ids)s): %(reason)s")
        % {"ids": ", ".join(f"#{r.pk}" for r in releases), "reason": reason},
        at=t,
    )
    _audit(
        AuditKind.APPEAL_RELEASED_ON_CALL,
        appeal,
        actor=actor,
        reason=reason,
        origin=origin,
        from_status=previous,
        releases=[str(r.pk) for r in releases],
        checklist={item: True for item in CHECKLIST},
        covered=[
            {"kind": e.kind, "id": str(e.id), "declaration": str(e.covered_by) if e.covered_by else None}
            for e in judged
        ],
        status_before=releases[0].status_before,
        status_after=after,
    )
    return appeal, after, releases
