"""The write path of the feeds (API.md "Feeds", SPEC §9): every batch is kept as received, each
record is validated on its own (the valid ones are kept when others are rejected), stored once by
`(source, external_id)` — the same content again is a duplicate, changed content an update with the
earlier version kept in history — and the persons it can affect are marked for recomputation."""

import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Model, Q
from rest_framework import serializers
from simple_history.utils import bulk_create_with_history

from apps.areas.models import Area
from apps.core import crypto, doors
from apps.core.bulk import history_user_id, in_array, rows_insert_with_history
from apps.core.clock import now
from apps.core.text import is_storable, unstorable_text_errors
from apps.people.models import Person, Phone
from apps.people.services import UNCHANGED, person_ensure, person_id_hash, person_upsert, person_write, phone_hash
from apps.policy.models import LocalCaseReport

from . import feeds
from .choices import EvidenceOrigin
from .models import (
    Association,
    DeclaredPlace,
    HealthEvent,
    InboundArrival,
    Ingestion,
    ItineraryDeclaration,
    LabResult,
    ObservationOrder,
    Stay,
    payload_text,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Feed:
    name: str
    schema: type
    model: type[Model]
    fields: tuple[str, ...]  # model fields copied from the validated record
    has_person: bool = True


FEEDS: dict[str, Feed] = {
    f.name: f
    for f in (
        Feed("stays", feeds.StayRecord, Stay, ("area_code", "precision", "arrived_at", "departed_at", "refunded")),
        Feed("lab-results", feeds.LabResultRecord, LabResult, ("sampled_at", "reported_at", "result", "institution")),
        Feed("health-events", feeds.HealthEventRecord, HealthEvent, ("kind", "occurred_at", "detail")),
        Feed(
            "inbound-arrivals",
            feeds.InboundArrivalRecord,
            InboundArrival,
            ("entered_at", "port", "quarantine_completed_at"),
        ),
        Feed(
            "observation-orders",
            feeds.ObservationOrderRecord,
            ObservationOrder,
            ("kind", "starts_at", "ends_at", "reason"),
        ),
        Feed("associations", feeds.AssociationRecord, Association, ("kind", "observed_at", "detail")),
        Feed(
            "local-cases",
            feeds.LocalCaseRecord,
            LocalCaseReport,
            ("area_code", "reported_on", "count"),
            has_person=False,
        ),
    )
}


@dataclass
class IngestResult:
    accepted: int = 0
    updated: int = 0
    duplicates: int = 0
    rejected: list = field(default_factory=list)
    ingestion_id: int | None = None
    person_ids: set = field(default_factory=set)
    county_codes: set = field(default_factory=set)

    def as_json(self) -> dict:
        return {
            "accepted": self.accepted,
            "updated": self.updated,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
        }


def _canonical(value):
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


# json.dumps(..., sort_keys=True, ensure_ascii=False) builds an encoder each call: one, kept. The
# text must never change (stored hashes tell a resend from an update).
_HASH_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=False)


def content_hash(data: dict) -> str:
    payload = _HASH_ENCODER.encode({k: _canonical(v) for k, v in data.items()})
    return hashlib.sha256(payload.encode()).hexdigest()


def _model_field(name: str) -> str:
    return "area_id" if name == "area_code" else name


def _resolve_persons(records: list[dict]) -> dict[tuple[str, str], int]:
    """Person ids for the IDs named in a batch: one query for the known, a create for the new."""
    keys = {(r["id_type"], r["id_number"]) for r in records if r.get("id_type") and r.get("id_number")}
    by_hash = {person_id_hash(t, n): (t, n) for t, n in keys}
    found = dict(Person.objects.filter(in_array(Person, "id_hash", by_hash, "text")).values_list("id_hash", "pk"))
    resolved = {by_hash[h]: pk for h, pk in found.items()}
    for key in keys - set(resolved):
        person, _created = person_upsert(id_type=key[0], id_number=key[1])
        resolved[key] = person.pk
    return resolved


def person_from_feed(
    *, id_type: str, id_number: str, name=None, community=None, birth_date=None, phones=()
) -> tuple[Person, bool]:
    """`POST /api/v1/persons/` from a partner with the feeds scope: create or update the person
    (the feeds are the source of persons, names and phones, SPEC §7), and recompute the status
    when what changed can change it (phones bring telecom stays; the birth date the proxy rule).
    Returns (person, created)."""
    outcome = person_write(
        id_type=id_type,
        id_number=id_number,
        name=name,
        community=UNCHANGED if community is None else community,
        birth_date=birth_date,
        phones=phones,
    )
    if outcome.created or outcome.status_changed:
        doors.status_mark_dirty(person_ids=[outcome.person.pk])
    return outcome.person, outcome.created


INGEST_ATTEMPTS = 3


def feed_ingest(*, feed: str, records: list, actor=None, source: str | None = None) -> IngestResult:
    """Ingest one batch of a feed. Returns the counts of API.md and the rejected records by index.

    A partner that timed out re-sends its batch, possibly while the first send is still being
    written: the re-send then waits on the unique indexes (records by source and external id, new
    persons by ID) for the first to commit and fails on them. It is run again from the start, in a
    new transaction (or savepoint), and finds those records stored: duplicates, never a second copy
    and never a 500 for a batch that is in fact kept."""
    attempt = 1
    while True:
        try:
            return _feed_ingest_once(feed=feed, records=records, actor=actor, source=source)
        except IntegrityError:
            if attempt == INGEST_ATTEMPTS:
                raise
            attempt += 1
            logger.info("A %s batch raced another on a unique key; ingesting it again", feed)


@transaction.atomic
def _feed_ingest_once(*, feed: str, records: list, actor=None, source: str | None) -> IngestResult:
    spec = FEEDS[feed]
    t = now()
    # The batch as received, encrypted; its JSON also tells whether any record holds text no
    # column can hold, so the common batch is not walked record by record for it.
    text, storable = payload_text({"records": records})
    ingestion = Ingestion.objects.create(
        feed=feed,
        received_at=t,
        submitted_by=actor,
        payload_encrypted=crypto.encrypt(text),
        record_count=len(records),
    )
    result = IngestResult(ingestion_id=ingestion.pk)
    codes = {str(r.get("area_code")) for r in records if isinstance(r, dict) and r.get("area_code")}
    # A code with a NUL or a lone surrogate is no area's (its record is rejected), and PostgreSQL
    # refuses it in a query.
    codes = {code for code in codes if is_storable(code)}
    context = {"areas": {a.code: a for a in Area.objects.filter(code__in=codes)}}

    # One validator for the whole batch: plain checks for the records it can vouch for, the
    # feed's serializer for the others and for every error (feeds.BatchValidator).
    validate = feeds.BatchValidator(spec.schema, context)
    valid: list[tuple[int, dict]] = []
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            result.rejected.append({"index": index, "errors": {"non_field_errors": ["A record is a JSON object."]}})
            continue
        # Text no column can hold (a NUL, a lone surrogate) rejects its record, naming the fields,
        # before the serializer echoes it into the errors kept with the batch (jsonb refuses it too).
        unstorable = None if storable else unstorable_text_errors(record)
        if unstorable:
            result.rejected.append({"index": index, "errors": unstorable})
            continue
        try:
            valid.append((index, validate(record)))
        except serializers.ValidationError as exc:
            result.rejected.append({"index": index, "errors": exc.detail})

    persons = _resolve_persons([d for _i, d in valid]) if spec.has_person else {}
    default_source = source or feed
    keyed: dict[tuple[str, str], tuple[dict, str]] = {}
    order: list[tuple[str, str]] = []
    for _index, data in valid:
        src = data.get("source") or default_source
        key = (src, data["external_id"])
        digest = content_hash(data)
        if key in keyed:
            if keyed[key][1] == digest:
                result.duplicates += 1
            else:
                keyed[key] = (data, digest)
                result.updated += 1
            continue
        keyed[key] = (data, digest)
        order.append(key)

    stored = _stored_hashes(spec.model, order)
    phone_hashes: dict[str, str] = {}
    rows, changed = [], {}
    for key in order:
        data, digest = keyed[key]
        values = {_model_field(name): data.get(name) for name in spec.fields}
        if "id_type" in data and data.get("id_number"):
            values["person_id"] = persons[(data["id_type"], data["id_number"])]
        if feed == "stays" and data.get("phone"):
            number = data["phone"]
            if number not in phone_hashes:
                phone_hashes[number] = phone_hash(number)
            values["phone_hash"] = phone_hashes[number]
        known = stored.get(key)
        if known is not None:
            if known[1] == digest:
                result.duplicates += 1
            else:
                changed[known[0]] = (values, digest)
            continue
        # A plain row by column (attname); the columns it leaves out take their fields' defaults.
        rows.append(
            {
                "source": key[0],
                "external_id": key[1],
                "ingestion_id": ingestion.pk,
                "ingested_at": t,
                "content_hash": digest,
                **values,
            }
        )
        result.accepted += 1
        _note_affected(result, values.get("person_id"), values.get("area_id"), spec)

    for obj in spec.model.objects.filter(pk__in=list(changed)).order_by("pk") if changed else ():
        # A changed record: saved through the model, its earlier version kept in its history.
        values, digest = changed[obj.pk]
        old_person, old_area = getattr(obj, "person_id", None), getattr(obj, "area_id", None)
        for name, value in values.items():
            setattr(obj, name, value)
        obj.content_hash = digest
        obj.ingestion = ingestion
        obj.ingested_at = t
        obj.save()
        result.updated += 1
        _note_affected(result, getattr(obj, "person_id", None), getattr(obj, "area_id", None), spec)
        _note_affected(result, old_person, old_area, spec)

    if rows:
        records_insert(spec.model, rows, t)  # COPY on PostgreSQL, with the history rows

    Ingestion.objects.filter(pk=ingestion.pk).update(
        accepted=result.accepted, updated=result.updated, duplicates=result.duplicates, rejected=result.rejected
    )
    _schedule_recomputation(result, set(phone_hashes.values()))
    return result


def records_insert(model, rows: list[dict], t: dt.datetime) -> None:
    """New records of a batch and their history rows (`+`, at `t`, by the request's user as
    simple-history records it), in bulk. The one place a batch's new records are written: the
    fault tests break it to prove a batch is all or nothing."""
    rows_insert_with_history(model, rows, t, user_id=history_user_id(model))


def _stored_hashes(model, keys: list[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, str]]:
    """(pk, content hash) of the records already stored under these keys, by key: plain values,
    one query a page of 1,000 keys (each source's ids OR-ed, one array parameter each: the unique
    index on source and external id answers each part)."""
    stored = {}
    for start in range(0, len(keys), 1000):
        by_source: dict[str, list[str]] = {}
        for src, external_id in keys[start : start + 1000]:
            by_source.setdefault(src, []).append(external_id)
        match = Q()
        for src, ids in by_source.items():
            match |= Q(Q(source=src), in_array(model, "external_id", ids, "text"))
        for pk, src, external_id, digest in model.objects.filter(match).values_list(
            "pk", "source", "external_id", "content_hash"
        ):
            stored[(src, external_id)] = (pk, digest)
    return stored


def _note_affected(result: IngestResult, person_id, area_id, spec: Feed) -> None:
    if person_id:
        result.person_ids.add(person_id)
    if spec.model is LocalCaseReport and area_id:
        result.county_codes.add(area_id)


def _schedule_recomputation(result: IngestResult, phone_hashes: set[str]) -> None:
    """Mark the persons the batch can affect (named, or owning a phone it names), inside its
    transaction; their recomputation is sent once it commits (`status_mark_dirty`)."""
    if phone_hashes:
        result.person_ids.update(
            Phone.objects.filter(in_array(Phone, "number_hash", phone_hashes, "text")).values_list(
                "person_id", flat=True
            )
        )
    if result.person_ids:
        doors.status_mark_dirty(person_ids=result.person_ids)
    if result.county_codes:
        doors.status_fanout_areas(county_codes=sorted(result.county_codes))


def declaration_places_check(places: list[dict]) -> None:
    """Field errors of a declaration's places (SPEC §4): at least one, each a county, none
    departing before it arrived."""
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    if not places:
        raise ValidationError({"places": [_("Declare at least one place.")]})
    areas = {a.code: a for a in Area.objects.filter(code__in=[p["area_code"] for p in places])}
    errors = {}
    for index, place in enumerate(places):
        area = areas.get(place["area_code"])
        if area is None or not area.is_county_like:
            errors[f"places[{index}].area_code"] = [_("A declared place is a county code.")]
        elif place.get("departed_at") and place["departed_at"] < place["arrived_at"]:
            errors[f"places[{index}].departed_at"] = [_("Departure is before arrival.")]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def itinerary_declare(
    *, actor, id_type: str, id_number: str, entered_beijing_at: dt.datetime | None, places: list[dict]
) -> ItineraryDeclaration:
    """A person declares, county by county, where they stayed (SPEC §4). Each place is also kept as
    a county-precision stay (source `declared`), so a declared medium/high county raises ③(a);
    the declaration verifies the city-precision stays it covers when every county is low risk and
    a negative NAT was sampled within the entry window. Returns the declaration."""
    declaration_places_check(places)
    person, _created = person_ensure(id_type=id_type, id_number=id_number)
    return declaration_record(actor=actor, person=person, entered_beijing_at=entered_beijing_at, places=places)


@transaction.atomic
def declaration_record(
    *,
    actor,
    person: Person,
    entered_beijing_at: dt.datetime | None,
    places: list[dict],
    origin: str = EvidenceOrigin.PERSON,
    feed: str = "itinerary-declarations",
    provenance: dict | None = None,
    reference_prefix: str = "",
) -> ItineraryDeclaration:
    """The core of a declaration for a known person: the declaration, its places and one
    county-precision `declared` stay a place, learnt through one ingestion (its `submitted_by`
    the actor, its payload the places with `provenance` — for one made on the person's behalf,
    who made it and on which work item), and the status marked dirty. `reference_prefix` starts
    the declaration's external id (and its stays'), so a work item finds its declarations."""
    import uuid

    declaration_places_check(places)
    t = now()
    ingestion = Ingestion.objects.create(
        feed=feed,
        received_at=t,
        submitted_by=actor,
        payload={
            "id_type": person.id_type,
            "person": person.ref,
            "entered_beijing_at": entered_beijing_at.isoformat() if entered_beijing_at else None,
            "places": [{k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in p.items()} for p in places],
            **(provenance or {}),
        },
        record_count=len(places),
        accepted=len(places),
    )
    ref = reference_prefix + uuid.uuid4().hex
    declaration = ItineraryDeclaration.objects.create(
        source="declared",
        external_id=ref,
        person=person,
        ingestion=ingestion,
        ingested_at=t,
        entered_beijing_at=entered_beijing_at,
        submitted_at=t,
        origin=origin,
    )
    DeclaredPlace.objects.bulk_create(
        DeclaredPlace(
            declaration=declaration,
            area_id=p["area_code"],
            arrived_at=p["arrived_at"],
            departed_at=p.get("departed_at"),
        )
        for p in places
    )
    bulk_create_with_history(
        [
            Stay(
                source="declared",
                external_id=f"{ref}-{i}",
                person=person,
                ingestion=ingestion,
                ingested_at=t,
                origin=origin,
                area_id=p["area_code"],
                precision="county",
                arrived_at=p["arrived_at"],
                departed_at=p.get("departed_at"),
            )
            for i, p in enumerate(places)
        ],
        Stay,
    )
    doors.status_mark_dirty(person_ids=[person.pk])
    return declaration
