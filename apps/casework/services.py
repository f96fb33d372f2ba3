"""Manual changes of community and CDC casework (SPEC §5–7): releasing popups, starting and ending
observation orders, returnees' community registrations (京心相助) and itinerary verifications.

Every function here checks the actor against the access layer first (role → 403, jurisdiction →
404), validates its input with field errors, writes in one transaction, recomputes the statuses it
changed before returning, and appends one audit event per person with who, when, what, why and the
status before and after. The admin, the API and any task call these; none writes these rows itself.
"""

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import OperationalError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from apps.accounts import access
from apps.accounts.models import Organisation
from apps.areas.models import Area
from apps.audit.choices import AuditKind, Origin
from apps.audit.models import AuditEvent
from apps.core import doors
from apps.core.clock import now
from apps.core.errors import Busy, Conflict, NotFoundInJurisdiction, NotPermitted
from apps.core.origin import current_origin
from apps.evidence.choices import EvidenceOrigin, OrderKind
from apps.evidence.models import Ingestion, ObservationOrder, ingestions_settled
from apps.people.models import Person, Phone
from apps.people.services import (
    UNCHANGED,
    PhoneInput,
    person_changes,
    person_ensure,
    person_find,
    person_id_number,
    person_snapshot,
    person_write,
)
from apps.policy.selectors import policy_at
from apps.status.models import Popup, Release, ReleaseAttachment
from apps.status.selectors import status_payload
from apps.status.services import (
    status_current,
    status_fanout_areas,
    status_mark_dirty,
    status_refresh,
    status_refresh_many,
)

from .choices import RegistrationStatus
from .models import CommunityRegistration, ItineraryVerification

CHECKLIST = ("itinerary_verified", "nat_negative", "commitment_signed")


def evidence_watermark() -> int:
    """The newest ingestion id: a release made now covers everything ingested up to it (SPEC §5).
    Read once every batch being written has committed, so no id below it is still unseen."""
    try:
        ingestions_settled()
    except OperationalError as exc:
        raise Busy(
            _("Data is being received for these persons right now: nothing was released. Try again in a moment.")
        ) from exc
    return Ingestion.objects.aggregate(m=Max("pk"))["m"] or 0


def _require_reason(reason: str, field: str = "reason") -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({field: [_("Write the reason for this change.")]})
    return reason


def _require_checklist(checklist: dict) -> dict:
    errors = {
        item: [_("Every item of the verification checklist must be confirmed before a release.")]
        for item in CHECKLIST
        if checklist.get(item) is not True
    }
    if errors:
        raise ValidationError(errors)
    return {item: True for item in CHECKLIST}


def _audit(
    *, kind: AuditKind, actor, person, reason: str, detail: dict, origin: Origin | None, at: dt.datetime
) -> AuditEvent:
    """An audit event to bulk-create or save: `origin` the context's unless given."""
    return AuditEvent(
        kind=AuditKind(kind),
        actor=actor,
        actor_org_id=getattr(actor, "organisation_id", None),
        person=person,
        at=at,
        reason=reason,
        detail=detail,
        origin=Origin(origin) if origin else current_origin(),
    )


# --- releases -----------------------------------------------------------------------------------


@dataclass
class ReleaseOutcome:
    """What a (bulk) release did: the releases made per person, the statuses after, and the
    persons skipped with why (outside the jurisdiction, nothing left to release)."""

    releases: dict[int, list[Release]] = field(default_factory=dict)
    statuses: dict[int, dict] = field(default_factory=dict)
    skipped: dict[int, str] = field(default_factory=dict)

    @property
    def released_persons(self) -> int:
        return len(self.releases)


@dataclass(frozen=True)
class OnCall:
    """The hotline's one door into a release (SPEC §6): popup ③ of the person `appeal` is about,
    by an operator of the centre that opened it (`appeal.release_on_call`, checked here), and only
    when `admit(status_row)` — called on the status recomputed after the release's watermark, so
    on exactly the evidence the release will cover — returns; it raises to refuse."""

    appeal: object
    admit: Callable


@transaction.atomic
def popups_release(
    *,
    actor,
    person_ids: Sequence[int],
    reason: str,
    checklist: dict,
    numbers: Iterable[int] | None = None,
    files: Sequence = (),
    origin: Origin | None = None,
    strict: bool = False,
    on_call: OnCall | None = None,
) -> ReleaseOutcome:
    """Release the active popups (all, or those numbered `numbers`) of these persons (SPEC §5).

    Each release covers the evidence ingested so far (the watermark); evidence ingested later
    raises the popup again. One `Release` per popup, one audit event per person, with the status
    before and after. With `strict` (a single release from the API), a person outside the
    jurisdiction raises 404 and nothing to release raises 409; otherwise such persons are reported
    in `skipped` and the others are released (bulk release from the queue). With `on_call` the
    actor is the hotline (see `OnCall`): popup ③ of the appeal's person only, strictly."""
    if on_call is None:
        access.require(actor, "popup.release")
    else:
        access.require(actor, "appeal.release_on_call", on_call.appeal)
        person_ids, numbers, strict = [on_call.appeal.person_id], [3], True
    reason = _require_reason(reason)
    checks = _require_checklist(checklist)
    wanted = set(numbers) if numbers is not None else None
    outcome = ReleaseOutcome()
    ids = sorted(set(person_ids))
    visible = set(Person.objects.visible_to(actor).filter(pk__in=ids).values_list("pk", flat=True))
    for pid in ids:
        if pid not in visible:
            if strict:
                raise NotFoundInJurisdiction(_("No such person."))
            outcome.skipped[pid] = _("outside your jurisdiction")
    ids = [pid for pid in ids if pid in visible]
    if not ids:
        return outcome

    # The watermark first, before any row is locked (waiting for batches being written must not
    # wait on this transaction): evidence committed after it raises the popup again.
    watermark = evidence_watermark()
    # Bring every status up to date first: a popup that has cleared on its own is not released.
    before_rows = status_refresh_many(person_ids=ids)
    if on_call is not None:
        on_call.admit(before_rows[on_call.appeal.person_id])
    persons = Person.objects.in_bulk(ids)
    active = defaultdict(list)
    for episode in Popup.objects.filter(person_id__in=ids, ended_at__isnull=True).order_by("number"):
        if wanted is None or episode.number in wanted:
            active[episode.person_id].append(episode)
    for pid in ids:
        if not active[pid]:
            if strict:
                raise Conflict(_("This popup is no longer active: there is nothing to release."), code="not_active")
            outcome.skipped[pid] = _("no active popup to release")
    ids = [pid for pid in ids if active[pid]]
    if not ids:
        return outcome

    t = now()
    before = {pid: status_payload(persons[pid], before_rows[pid]) for pid in ids}
    releases = [
        Release(
            person_id=pid,
            popup_number=episode.number,
            actor=actor,
            actor_org_id=actor.organisation_id,
            reason=reason,
            evidence_watermark=watermark,
            status_before=before[pid],
            created_at=t,
            **checks,
        )
        for pid in ids
        for episode in active[pid]
    ]
    Release.objects.bulk_create(releases)
    if any(r.pk is None for r in releases):  # backends without RETURNING: read the ids back
        releases = list(Release.objects.filter(person_id__in=ids, created_at=t, actor=actor).order_by("pk"))
    stored_files = [_store_file(f) for f in files]
    ReleaseAttachment.objects.bulk_create(
        ReleaseAttachment(release=release, file=name) for release in releases for name in stored_files
    )

    after_rows = status_refresh_many(person_ids=ids)
    by_person = defaultdict(list)
    for release in releases:
        release.status_after = status_payload(persons[release.person_id], after_rows[release.person_id])
        by_person[release.person_id].append(release)
    Release.objects.bulk_update(releases, ["status_after"])
    # SPEC §5: every release is reviewed by a background job, after this transaction commits.
    doors.release_recorded(release_ids=[r.pk for r in releases])
    events = []
    for pid in ids:
        after = by_person[pid][0].status_after
        events.append(
            _audit(
                kind=AuditKind.POPUP_RELEASED,
                actor=actor,
                person=persons[pid],
                reason=reason,
                origin=origin,
                at=t,
                detail={
                    "popups": [r.popup_number for r in by_person[pid]],
                    "releases": [str(r.pk) for r in by_person[pid]],
                    "checklist": checks,
                    "evidence_watermark": watermark,
                    "attachments": stored_files,
                    "status_before": before[pid],
                    "status_after": after,
                    **(_on_call_detail(on_call.appeal) if on_call is not None else {}),
                },
            )
        )
        outcome.releases[pid] = by_person[pid]
        outcome.statuses[pid] = after
    AuditEvent.objects.bulk_create(events)
    return outcome


def _on_call_detail(appeal) -> dict:
    return {"appeal": str(appeal.pk), "tracking_number": appeal.tracking_number, "on_call": True}


def popup_release(
    *, actor, popup_id, reason: str, checklist: dict, files: Sequence = (), origin: Origin | None = None
) -> ReleaseOutcome:
    """Release one popup episode (API.md `POST /api/v1/popups/{id}/release/`)."""
    access.require(actor, "popup.release")
    try:
        popup = Popup.objects.select_related("person").get(pk=int(popup_id))
    except (Popup.DoesNotExist, ValueError, TypeError):
        raise NotFoundInJurisdiction(_("No such popup.")) from None
    access.require(actor, "popup.release", popup)
    if popup.ended_at is not None:
        raise Conflict(_("This popup is no longer active: there is nothing to release."), code="not_active")
    return popups_release(
        actor=actor,
        person_ids=[popup.person_id],
        numbers=[popup.number],
        reason=reason,
        checklist=checklist,
        files=files,
        origin=origin,
        strict=True,
    )


def _store_file(upload) -> str:
    from django.core.files.storage import default_storage

    t = now()
    return default_storage.save(f"releases/{t:%Y/%m}/{upload.name}", upload)


# --- observation orders -------------------------------------------------------------------------


def _staff_ingestion(*, feed: str, actor, payload: dict) -> Ingestion:
    """Staff input is learnt like any feed: through an ingestion, so it takes its place in the
    order of knowledge (a release covers what was learnt before it)."""
    return Ingestion.objects.create(
        feed=feed, received_at=now(), submitted_by=actor, payload=payload, record_count=1, accepted=1
    )


@transaction.atomic
def order_start(
    *,
    actor,
    person: Person,
    kind: str,
    starts_at: dt.datetime | None = None,
    ends_at: dt.datetime | None = None,
    reason: str,
    origin: Origin | None = None,
) -> tuple[ObservationOrder, dict]:
    """Start an observation order (SPEC §3, §5): home observation (community workers, CDC) or
    centralised observation (CDC). Returns the order and the person's status after."""
    if kind not in OrderKind.values:
        raise ValidationError({"kind": [_("Choose one of: %(kinds)s.") % {"kinds": ", ".join(OrderKind.values)}]})
    access.require(actor, f"order.start.{kind}", person)
    reason = _require_reason(reason)
    t = now()
    starts_at = starts_at or t
    if ends_at is not None and ends_at <= starts_at:
        raise ValidationError({"ends_at": [_("The order must end after it starts.")]})
    before = status_payload(person, status_current(person_id=person.pk))
    payload = {
        "person": person.ref,
        "kind": kind,
        "starts_at": starts_at.isoformat(),
        "ends_at": ends_at.isoformat() if ends_at else None,
        "reason": reason,
    }
    order = ObservationOrder.objects.create(
        source="staff",
        external_id=uuid.uuid4().hex,
        person=person,
        ingestion=_staff_ingestion(feed="orders", actor=actor, payload=payload),
        ingested_at=t,
        origin=EvidenceOrigin.STAFF,
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason,
        issued_by=actor,
        issuer_org_id=actor.organisation_id,
    )
    after = status_payload(person, status_refresh(person_id=person.pk))
    _audit(
        kind=AuditKind.ORDER_STARTED,
        actor=actor,
        person=person,
        reason=reason,
        origin=origin,
        at=t,
        detail={"order": str(order.pk), **payload, "status_before": before, "status_after": after},
    ).save()
    return order, after


@transaction.atomic
def order_end(*, actor, order_id, reason: str, origin: Origin | None = None) -> tuple[ObservationOrder, dict]:
    """End an active observation order now (a manual change by its issuer's organisation or the
    CDC). Returns the order and the person's status after."""
    access.require(actor, "order.end")
    try:
        order = ObservationOrder.objects.select_for_update(of=("self",)).select_related("person").get(pk=int(order_id))
    except (ObservationOrder.DoesNotExist, ValueError, TypeError):
        raise NotFoundInJurisdiction(_("No such order.")) from None
    access.require(actor, "order.end", order)
    reason = _require_reason(reason)
    t = now()
    if order.ended_at is not None or (order.ends_at is not None and order.ends_at <= t):
        raise Conflict(_("This order has already ended."), code="ended")
    person = order.person
    before = status_payload(person, status_current(person_id=person.pk))
    order.ended_at = t
    order.ended_by = actor
    order.end_reason = reason
    order._change_reason = reason
    order.save(update_fields=["ended_at", "ended_by", "end_reason"])
    after = status_payload(person, status_refresh(person_id=person.pk))
    _audit(
        kind=AuditKind.ORDER_ENDED,
        actor=actor,
        person=person,
        reason=reason,
        origin=origin,
        at=t,
        detail={"order": str(order.pk), "kind": order.kind, "status_before": before, "status_after": after},
    ).save()
    return order, after


# --- a person's record (SPEC §7: who may change a person) -------------------------------------


@transaction.atomic
def person_change(
    *,
    actor,
    reason: str,
    id_type: str = "",
    id_number: str = "",
    person: Person | None = None,
    name: str | None = None,
    community=UNCHANGED,
    birth_date: dt.date | None = None,
    phones: Sequence[PhoneInput] = (),
    origin: Origin | None = None,
) -> tuple[Person, dict]:
    """A staff change to a person's record, a manual change (SPEC §5, §7). Staff never create a
    person here, and never change one they cannot see: an unknown ID number, or a person outside
    the actor's jurisdiction, answers 404 and writes nothing. Each field changed is checked on
    its own: the community of residence (`person.set_community`: a community worker takes in a
    person who has none into their own community, or moves their own resident away; the CDC sets
    any), and the name, birth date and phones (`person.correct`: the CDC only — they come from the
    feeds). Fields given with their current value are no change. Needs a reason; writes one audit
    event with the record before and after (masked) and the status before and after, and
    recomputes the status. The person is named by ID (the API) or given (the admin, which found
    them through the access layer). Returns the person and the status after."""
    if person is not None:
        person = Person.objects.select_for_update(of=("self",)).filter(pk=person.pk).first()
        id_type, id_number = (person.id_type, person_id_number(person)) if person else ("", "")
    else:
        person = person_find(id_type=id_type, id_number=id_number, lock=True)
    if person is None or not access.is_visible(actor, person):
        # The role is checked first: a role that may change nobody learns nothing of the person.
        if not (access.may(actor, "person.set_community") or access.may(actor, "person.correct")):
            access.require(actor, "person.correct")
        raise NotFoundInJurisdiction(_("No such person."))
    changed = person_changes(person, name=name, community=community, birth_date=birth_date, phones=phones)
    if "community" in changed:
        access.require(actor, "person.set_community", person, community=community)
    if changed - {"community"}:
        access.require(actor, "person.correct", person)
    if not changed:
        access.require(actor, "person.set_community" if community is not UNCHANGED else "person.correct", person)
        return person, status_payload(person, status_current(person_id=person.pk))
    reason = _require_reason(reason)
    t = now()
    before = status_payload(person, status_current(person_id=person.pk))
    person._change_reason = reason[:100]
    outcome = person_write(
        id_type=id_type,
        id_number=id_number,
        name=name,
        community=community,
        birth_date=birth_date,
        phones=phones,
        create=False,
    )
    person = outcome.person
    after = status_payload(person, status_refresh(person_id=person.pk))
    _audit(
        kind=AuditKind.PERSON_CHANGED,
        actor=actor,
        person=person,
        reason=reason,
        origin=origin,
        at=t,
        detail={
            "fields": sorted(outcome.changed),
            "before": outcome.before,
            "after": person_snapshot(person),
            "status_before": before,
            "status_after": after,
        },
    ).save()
    return person, after


# --- community registrations (京心相助) -----------------------------------------------------------


@transaction.atomic
def registration_create(
    *,
    actor,
    id_type: str,
    id_number: str,
    community_code: str,
    arriving_at: dt.datetime,
    from_area_code: str | None = None,
    name: str = "",
) -> CommunityRegistration:
    """A returnee registers with a community before arriving (on their own behalf, through a
    channel). A second registration with the same community while one is pending updates it."""
    community = Organisation.objects.filter(code=community_code, kind="community", is_active=True).first()
    errors = {}
    if community is None:
        errors["community"] = [_("No community with this code.")]
    from_area = None
    if from_area_code:
        from_area = Area.objects.filter(code=from_area_code).first()
        if from_area is None:
            errors["from_area_code"] = [_("No area with this code.")]
    if errors:
        raise ValidationError(errors)
    person, _created = person_ensure(id_type=id_type, id_number=id_number, name=name)
    registration = (
        CommunityRegistration.objects.select_for_update()
        .filter(person=person, community=community, status=RegistrationStatus.PENDING)
        .first()
    )
    if registration is None:
        registration = CommunityRegistration(person=person, community=community)
    registration.arriving_at = arriving_at
    registration.from_area = from_area
    registration.save()
    return registration


def registration_visible(actor, registration_id) -> CommunityRegistration:
    try:
        registration = CommunityRegistration.objects.select_related("person", "community").get(pk=int(registration_id))
    except (CommunityRegistration.DoesNotExist, ValueError, TypeError):
        raise NotFoundInJurisdiction(_("No such registration.")) from None
    access.require(actor, "registration.list", registration)
    return registration


@transaction.atomic
def registration_decide(
    *,
    actor,
    registration_id,
    decision: str,
    note: str,
    observation_days: int | None = None,
    checklist: dict | None = None,
    origin: Origin | None = None,
) -> CommunityRegistration:
    """The community decides: home observation (an order from the arrival for `observation_days`,
    by default the policy's look-back window) or no isolation (releasing the popups that are due,
    with the checklist)."""
    registration = registration_visible(actor, registration_id)
    access.require(actor, "registration.decide", registration)
    note = _require_reason(note, "note")
    if decision not in (RegistrationStatus.HOME_OBSERVATION, RegistrationStatus.NO_ISOLATION):
        raise ValidationError({"decision": [_("Decide home observation or no isolation.")]})
    if registration.status != RegistrationStatus.PENDING:
        raise Conflict(_("This registration has already been decided."), code="decided")
    t = now()
    detail = {"registration": str(registration.pk), "decision": decision}
    if decision == RegistrationStatus.HOME_OBSERVATION:
        days = observation_days or policy_at(t).lookback_days
        starts_at = max(registration.arriving_at, t)
        order, _after = order_start(
            actor=actor,
            person=registration.person,
            kind=OrderKind.HOME,
            starts_at=starts_at,
            ends_at=starts_at + dt.timedelta(days=days),
            reason=note,
            origin=origin,
        )
        detail["order"] = str(order.pk)
    elif checklist is not None:
        outcome = popups_release(
            actor=actor, person_ids=[registration.person_id], reason=note, checklist=checklist, origin=origin
        )
        detail["releases"] = [str(r.pk) for rs in outcome.releases.values() for r in rs]
    registration.status = decision
    registration.decided_by = actor
    registration.decided_at = t
    registration.decision_note = note
    registration._change_reason = note
    registration.save()
    _audit(
        kind=AuditKind.REGISTRATION_DECIDED,
        actor=actor,
        person=registration.person,
        reason=note,
        origin=origin,
        at=t,
        detail=detail,
    ).save()
    return registration


# --- itinerary verification -----------------------------------------------------------------------


@transaction.atomic
def itinerary_verify(
    *, actor, person: Person, note: str, remote: bool = False, declaration=None, origin: Origin | None = None
) -> ItineraryVerification:
    """Record that a worker verified the person's itinerary (remotely, for a person who cannot
    come in — the "dead loop" of the seeds — or in person). It is the first item of a release's
    checklist; the release itself is a separate, deliberate act."""
    access.require(actor, "itinerary.verify", person)
    note = _require_reason(note, "note")
    if declaration is not None and declaration.person_id != person.pk:
        raise ValidationError({"declaration": [_("This declaration belongs to someone else.")]})
    t = now()
    verification = ItineraryVerification.objects.create(
        person=person, verified_by=actor, verified_at=t, declaration=declaration, remote=remote, note=note
    )
    _audit(
        kind=AuditKind.ITINERARY_VERIFIED,
        actor=actor,
        person=person,
        reason=note,
        origin=origin,
        at=t,
        detail={"verification": str(verification.pk), "remote": remote},
    ).save()
    return verification


# --- corrections ----------------------------------------------------------------------------------


def _learnt_by_correction(obj, *, actor, fields: Sequence[str]) -> None:
    """A corrected fact is new knowledge: it is learnt now, through a staff ingestion, so a release
    made before the correction does not cover it and the popup it warrants is raised again."""
    names = {f.name for f in obj._meta.concrete_fields}
    if "ingestion" not in names:
        return
    ingestion = _staff_ingestion(
        feed="correction",
        actor=actor,
        payload={"model": obj._meta.label_lower, "id": str(obj.pk), "fields": sorted(fields)},
    )
    learnt = {"ingestion": ingestion}
    if "ingested_at" in names:
        learnt["ingested_at"] = ingestion.received_at
    type(obj).objects.filter(pk=obj.pk).update(**learnt)
    for name, value in learnt.items():
        setattr(obj, name, value)


@transaction.atomic
def record_corrected(
    *,
    actor,
    obj,
    reason: str,
    fields: Sequence[str],
    created: bool = False,
    previous_person_id: int | None = None,
    origin: Origin | None = None,
) -> AuditEvent:
    """A record corrected (or added) by hand, after the admin saved it (SPEC §5: correcting a
    record is a manual change). Only superusers correct records. Appends the audit event — the
    names of the fields changed, never their values, which may be personal — and makes every
    status the record can affect recompute: its person (and the previous one when the person
    changed), the owners of a telecom stay's number, or everyone who stayed in a corrected area."""
    if not (actor and actor.is_superuser):
        raise NotPermitted(_("Only a superuser corrects records by hand."))
    reason = _require_reason(reason, "correction_reason")
    _learnt_by_correction(obj, actor=actor, fields=fields)
    person_ids = {pid for pid in (getattr(obj, "person_id", None), previous_person_id) if pid}
    if getattr(obj, "phone_hash", ""):
        person_ids |= set(Phone.objects.filter(number_hash=obj.phone_hash).values_list("person_id", flat=True))
    if isinstance(obj, Person):
        person_ids.add(obj.pk)
    if person_ids:
        status_mark_dirty(person_ids=person_ids)
    elif getattr(obj, "area_id", None) and not hasattr(obj, "person_id"):
        status_fanout_areas(county_codes=[obj.area_id])
    event = _audit(
        kind=AuditKind.RECORD_ADDED if created else AuditKind.RECORD_CORRECTED,
        actor=actor,
        person=obj if isinstance(obj, Person) else getattr(obj, "person", None),
        reason=reason,
        origin=origin,
        at=now(),
        detail={"model": obj._meta.label_lower, "id": str(obj.pk), "fields": sorted(fields)},
    )
    event.save()
    return event
