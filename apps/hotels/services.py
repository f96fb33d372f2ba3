"""Guest registration by hotel staff (SPEC §4, §7): check-in, check-out and a guest list imported
in bulk.

A check-in with a valid NAT — negative, sampled within `hotel_nat_validity_days` before check-in
(or later), or a negative test taken at the hotel — verifies the guest like an itinerary
declaration: it writes an `ItineraryDeclaration(source="hotel")` dated at check-in, which covers
the guest's city-precision stays begun before it and satisfies popup ④ for triggers up to then.
It clears nothing else (①, ②, ③(a), ③(c), ⑤, yellow, red): those come from other evidence the
check-in does not touch. Without a valid NAT the guest is still registered (a hotel stay and a
county-precision stay at the hotel) but nothing is verified, and the answer says so.

Check-out ends the hotel stay and the stay at the hotel; what the check-in verified stays
verified. Every write goes through an ingestion (feed `hotel-stays`, submitted by the clerk) so it
takes its place in the order of knowledge, and every check-in and check-out is an audit event.
"""

import datetime as dt
import uuid
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from apps.accounts import access
from apps.accounts.choices import OrgKind
from apps.accounts.models import Organisation
from apps.audit.choices import AuditKind, Origin
from apps.audit.services import audit_event_record
from apps.core.clock import now
from apps.core.errors import Conflict, DomainError, NotFoundInJurisdiction, NotPermitted
from apps.evidence.choices import EvidenceOrigin, LabResultValue, Precision, StaySource
from apps.evidence.models import Ingestion, ItineraryDeclaration, LabResult, Stay
from apps.people.services import person_ensure
from apps.policy.selectors import policy_at
from apps.status.models import PersonStatus
from apps.status.selectors import status_payload
from apps.status.services import status_current, status_refresh, status_refresh_many

from .models import HotelStay

FEED = "hotel-stays"
# A clerk's clock and the server's may disagree a little; a check-in "in the future" beyond this
# is a typing error.
CLOCK_SKEW = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class NatInput:
    """The NAT the clerk saw (a certificate) or the test taken at the hotel."""

    sampled_at: dt.datetime
    result: str
    at_hotel: bool = False


@dataclass(frozen=True)
class GuestInput:
    id_type: str
    id_number: str
    name: str = ""
    checked_in_at: dt.datetime | None = None
    nat: NatInput | None = None


@dataclass
class CheckInOutcome:
    """What a check-in did: the hotel stay, whether it verified the guest, a sentence for the
    clerk saying what it did and did not do, and the guest's status after."""

    hotel_stay: HotelStay
    verified: bool
    message: str
    status: dict = field(default_factory=dict)


@dataclass
class BulkOutcome:
    """A guest list: every row checked in, or none (`errors` by row number, nothing written)."""

    created: list[HotelStay] = field(default_factory=list)
    errors: dict[int, dict[str, list[str]]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def hotel_of(actor, hotel: Organisation | None = None) -> Organisation:
    """The hotel the actor registers guests for: their own organisation (a superuser names one)."""
    if actor.is_superuser and hotel is not None:
        org = hotel
    else:
        org = actor.organisation
    if org is None or org.kind != OrgKind.HOTEL:
        raise NotPermitted(_("Only staff of a hotel register its guests."))
    if org.area_id is None:
        raise DomainError(_("This hotel has no district on record: ask an administrator to set its area."))
    return org


def nat_is_valid(*, nat: NatInput | None, checked_in_at: dt.datetime, validity_days: int) -> bool:
    """SPEC §4: a negative NAT sampled within `hotel_nat_validity_days` before check-in (or at any
    time since), or a negative test taken at the hotel."""
    if nat is None or nat.result != LabResultValue.NEGATIVE:
        return False
    if nat.at_hotel:
        return True
    return nat.sampled_at >= checked_in_at - dt.timedelta(days=validity_days)


def _validate(guest: GuestInput, t: dt.datetime) -> dt.datetime:
    checked_in_at = guest.checked_in_at or t
    errors = {}
    if checked_in_at > t + CLOCK_SKEW:
        errors["checked_in_at"] = [_("A check-in cannot be in the future.")]
    if guest.nat is not None:
        if guest.nat.result not in LabResultValue.values:
            errors["nat.result"] = [_("The NAT result is negative or positive.")]
        if guest.nat.sampled_at > t + CLOCK_SKEW:
            errors["nat.sampled_at"] = [_("A NAT cannot be sampled in the future.")]
    if errors:
        raise ValidationError(errors)
    return checked_in_at


def _check_in(*, actor, hotel: Organisation, guest: GuestInput, origin: Origin | None) -> tuple[HotelStay, dict]:
    """Write one check-in (no recomputation). Returns the hotel stay and the status before."""
    t = now()
    checked_in_at = _validate(guest, t)
    # SPEC §7: a known guest's stored name is left alone; an unknown guest is created on purpose,
    # and that is audited.
    person, created = person_ensure(id_type=guest.id_type, id_number=guest.id_number, name=guest.name)
    if created:
        audit_event_record(
            kind=AuditKind.PERSON_CREATED,
            actor=actor,
            person=person,
            reason=_("hotel check-in of a guest not yet on record"),
            origin=origin,
            detail={"hotel": hotel.code, "id_type": person.id_type, "name": person.display_name},
        )
    if HotelStay.objects.select_for_update().filter(hotel=hotel, person=person, checked_out_at__isnull=True).exists():
        raise Conflict(_("This guest is already checked in at this hotel."), code="checked_in")
    before = status_payload(person, status_current(person_id=person.pk))
    nat = guest.nat
    valid = nat_is_valid(
        nat=nat, checked_in_at=checked_in_at, validity_days=policy_at(checked_in_at).hotel_nat_validity_days
    )
    ingestion = Ingestion.objects.create(
        feed=FEED,
        received_at=t,
        submitted_by=actor,
        payload={
            "action": "check_in",
            "hotel": hotel.code,
            "person": person.ref,
            "id_type": person.id_type,
            "checked_in_at": checked_in_at.isoformat(),
            "nat": (
                {"sampled_at": nat.sampled_at.isoformat(), "result": nat.result, "at_hotel": nat.at_hotel}
                if nat
                else None
            ),
        },
        record_count=1,
        accepted=1,
    )
    key = uuid.uuid4().hex
    common = {"person": person, "ingestion": ingestion, "ingested_at": t, "origin": EvidenceOrigin.STAFF}
    lab = None
    if nat is not None and nat.at_hotel:
        # The hotel's own test is a lab result like any other (SPEC §4).
        lab = LabResult.objects.create(
            source=StaySource.HOTEL,
            external_id=f"{hotel.code}-{key}",
            sampled_at=nat.sampled_at,
            reported_at=t,
            result=nat.result,
            institution=hotel.name,
            **common,
        )
    declaration = None
    if valid:
        declaration = ItineraryDeclaration.objects.create(
            source=StaySource.HOTEL, external_id=f"{hotel.code}-{key}", submitted_at=checked_in_at, nat=lab, **common
        )
    stay = Stay.objects.create(
        source=StaySource.HOTEL,
        external_id=f"{hotel.code}-{key}",
        area_id=hotel.area_id,
        precision=Precision.COUNTY,
        arrived_at=checked_in_at,
        departed_at=None,
        **common,
    )
    try:
        with transaction.atomic():  # a savepoint: the race below is answered, not a 500
            hotel_stay = HotelStay.objects.create(
                hotel=hotel,
                person=person,
                checked_in_at=checked_in_at,
                nat=lab,
                nat_sampled_at=nat.sampled_at if nat else None,
                nat_result=nat.result if nat else "",
                nat_at_hotel=bool(nat and nat.at_hotel),
                stay=stay,
                declaration=declaration,
                registered_by=actor,
            )
    except IntegrityError as exc:
        # Another check-in of the same guest committed between the check above and this insert.
        raise Conflict(_("This guest is already checked in at this hotel."), code="checked_in") from exc
    return hotel_stay, before


def _answer(hotel_stay: HotelStay, status_after: dict) -> str:
    if hotel_stay.verified:
        text = _(
            "Checked in with a valid negative NAT: the guest's city-level itinerary before check-in is verified "
            "and popup 4 is satisfied."
        )
    elif hotel_stay.nat_result:
        text = _(
            "Checked in, but the NAT is not valid for a hotel check-in (it must be negative and sampled within "
            "the validity period, or taken at the hotel): nothing is verified. Offer the guest a test at the hotel."
        )
    else:
        text = _(
            "Checked in without a NAT: nothing is verified. Offer the guest a test at the hotel, or ask for a "
            "negative result sampled within the validity period."
        )
    if status_after.get("state") != "green":
        text += " " + _(
            "A hotel check-in does not clear popups 1, 2 and 5, a stay in a medium- or high-risk county, "
            "association records, home or centralised observation: the guest keeps those and is told why."
        )
    return text


def _audit_check_in(actor, hotel_stay: HotelStay, before: dict, after: dict, origin: Origin | None) -> None:
    audit_event_record(
        kind=AuditKind.HOTEL_CHECKED_IN,
        actor=actor,
        person=hotel_stay.person,
        reason=_("hotel check-in"),
        origin=origin,
        detail={
            "hotel": hotel_stay.hotel.code,
            "hotel_stay": str(hotel_stay.pk),
            "checked_in_at": hotel_stay.checked_in_at.isoformat(),
            "verified": hotel_stay.verified,
            "nat": {
                "sampled_at": hotel_stay.nat_sampled_at.isoformat() if hotel_stay.nat_sampled_at else None,
                "result": hotel_stay.nat_result or None,
                "at_hotel": hotel_stay.nat_at_hotel,
                "lab_result": str(hotel_stay.nat_id) if hotel_stay.nat_id else None,
            },
            "status_before": before,
            "status_after": after,
        },
    )


@transaction.atomic
def hotel_check_in(
    *, actor, guest: GuestInput, hotel: Organisation | None = None, origin: Origin | None = None
) -> CheckInOutcome:
    """Check a guest in at the actor's hotel (SPEC §4). Returns what it did and the status after;
    a guest already checked in at this hotel answers 409."""
    access.require(actor, "hotel.check_in")
    hotel = hotel_of(actor, hotel)
    hotel_stay, before = _check_in(actor=actor, hotel=hotel, guest=guest, origin=origin)
    after = status_payload(hotel_stay.person, status_refresh(person_id=hotel_stay.person_id))
    _audit_check_in(actor, hotel_stay, before, after, origin)
    return CheckInOutcome(
        hotel_stay=hotel_stay, verified=hotel_stay.verified, message=_answer(hotel_stay, after), status=after
    )


def hotel_check_in_bulk(
    *,
    actor,
    guests: list[tuple[int, GuestInput]],
    rejected: dict[int, dict[str, list[str]]] | None = None,
    hotel: Organisation | None = None,
    origin: Origin | None = None,
) -> BulkOutcome:
    """Check in a guest list all or nothing: each row is tried (so every bad row is reported, by
    its row number), and when any row fails — or was already `rejected` when the file was read —
    nothing at all is kept."""
    access.require(actor, "hotel.check_in")
    hotel = hotel_of(actor, hotel)
    outcome = BulkOutcome(errors=dict(rejected or {}))
    with transaction.atomic():
        written: list[tuple[HotelStay, dict]] = []
        for row, guest in guests:
            try:
                with transaction.atomic():
                    written.append(_check_in(actor=actor, hotel=hotel, guest=guest, origin=origin))
            except ValidationError as exc:
                outcome.errors[row] = _error_dict(exc)
            except DomainError as exc:
                outcome.errors[row] = {"__all__": [exc.message]}
        if outcome.errors:
            transaction.set_rollback(True)
            outcome.errors = dict(sorted(outcome.errors.items()))
            return outcome
        rows = status_refresh_many(person_ids=[hs.person_id for hs, _before in written])
        for hotel_stay, before in written:
            after = status_payload(hotel_stay.person, rows[hotel_stay.person_id])
            _audit_check_in(actor, hotel_stay, before, after, origin)
            outcome.created.append(hotel_stay)
    return outcome


def _error_dict(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {name: [str(m) for e in errors for m in e.messages] for name, errors in exc.error_dict.items()}
    return {"__all__": [str(m) for m in exc.messages]}


def hotel_stay_for(actor, hotel_stay_id) -> HotelStay:
    """A stay of the actor's own hotel (404 for any other, apps.accounts.access)."""
    try:
        hotel_stay = HotelStay.objects.select_related("person", "hotel", "stay").get(pk=int(hotel_stay_id))
    except (HotelStay.DoesNotExist, ValueError, TypeError):
        raise NotFoundInJurisdiction(_("No such hotel stay.")) from None
    access.require(actor, "hotel.check_out", hotel_stay)
    return hotel_stay


@transaction.atomic
def hotel_check_out(
    *, actor, hotel_stay_id, checked_out_at: dt.datetime | None = None, origin: Origin | None = None
) -> tuple[HotelStay, dict]:
    """Check a guest out: ends the hotel stay and the stay at the hotel. What the check-in
    verified stays verified (SPEC §4). Returns the hotel stay and the status after."""
    access.require(actor, "hotel.check_out")
    hotel_stay = hotel_stay_for(actor, hotel_stay_id)
    hotel_stay = (
        HotelStay.objects.select_for_update(of=("self",))
        .select_related("person", "hotel", "stay")
        .get(pk=hotel_stay.pk)
    )
    if hotel_stay.checked_out_at is not None:
        raise Conflict(_("This guest has already checked out."), code="checked_out")
    t = now()
    checked_out_at = checked_out_at or t
    if checked_out_at > t + CLOCK_SKEW:
        raise ValidationError({"checked_out_at": [_("A check-out cannot be in the future.")]})
    if checked_out_at < hotel_stay.checked_in_at:
        raise ValidationError({"checked_out_at": [_("A guest cannot check out before checking in.")]})
    person = hotel_stay.person
    before = status_payload(person, status_current(person_id=person.pk))
    # Kept in the inbox like every staff action. The stay keeps the ingestion it came with: a
    # departure adds no exposure, so it must not count as evidence learnt after a release.
    Ingestion.objects.create(
        feed=FEED,
        received_at=t,
        submitted_by=actor,
        payload={"action": "check_out", "hotel_stay": hotel_stay.pk, "checked_out_at": checked_out_at.isoformat()},
        record_count=1,
        accepted=1,
    )
    hotel_stay.checked_out_at = checked_out_at
    hotel_stay.checked_out_by = actor
    hotel_stay.save(update_fields=["checked_out_at", "checked_out_by"])
    if hotel_stay.stay is not None:
        hotel_stay.stay.departed_at = checked_out_at
        hotel_stay.stay.save(update_fields=["departed_at"])
    after = status_payload(person, status_refresh(person_id=person.pk))
    audit_event_record(
        kind=AuditKind.HOTEL_CHECKED_OUT,
        actor=actor,
        person=person,
        reason=_("hotel check-out"),
        origin=origin,
        detail={
            "hotel": hotel_stay.hotel.code,
            "hotel_stay": str(hotel_stay.pk),
            "checked_out_at": checked_out_at.isoformat(),
            "status_before": before,
            "status_after": after,
        },
    )
    return hotel_stay, after


def check_out_message() -> str:
    return _("Checked out. What the check-in verified stays verified.")


def guests_status_refresh(person_ids: list[int]) -> None:
    """Bring the statuses of a page of guests up to date before showing their colour (a status is
    never shown stale: rows marked dirty or past their next change are recomputed)."""
    t = now()
    fresh = set(
        PersonStatus.objects.filter(person_id__in=person_ids, dirty_since__isnull=True)
        .filter(Q(next_change_at__isnull=True) | Q(next_change_at__gt=t))
        .values_list("person_id", flat=True)
    )
    stale = [pid for pid in person_ids if pid not in fresh]
    if stale:
        status_refresh_many(person_ids=stale)
