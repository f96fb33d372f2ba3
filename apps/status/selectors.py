"""Reads for the status engine: gathering one person's facts at `t` with a fixed, small number of
indexed queries, and reading the materialised status."""

import datetime as dt
from collections import defaultdict, namedtuple

from django.db import connection
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL

from apps.areas.models import Area
from apps.core.clock import local_date, next_local_midnight, now
from apps.evidence.models import (
    Association,
    HealthEvent,
    InboundArrival,
    ItineraryDeclaration,
    LabResult,
    ObservationOrder,
    Stay,
)
from apps.people.models import Phone
from apps.policy.models import BorderPortCounty, LocalCaseReport, PolicyVersion, RiskDesignation
from apps.policy.selectors import policy_at

from .engine import facts as f
from .models import Release
from .presentation import STATE_COLOUR, STATE_LABEL, needs_policy, popups_shown, reasons_shown

STAY_COLUMNS = (
    "pk",
    "person_id",
    "ingestion_id",
    "source",
    "area_id",
    "precision",
    "arrived_at",
    "departed_at",
    "refunded",
    "phone_hash",
)
StayRow = namedtuple("StayRow", STAY_COLUMNS)


def in_array(model, field: str, values, db_type: str = "bigint"):
    """`field IN values` for many values, as a filter: on PostgreSQL `= ANY(%s)` with one array
    parameter, an index scan for the whole chunk, instead of a placeholder and an adaptation per
    value (which cost more than the query itself for chunks of 500 persons)."""
    values = list(values)
    if connection.vendor != "postgresql":
        return Q(**{f"{field}__in": values})
    qn = connection.ops.quote_name
    column = f"{qn(model._meta.db_table)}.{qn(model._meta.get_field(field).column)}"
    return RawSQL(f"{column} = ANY(%s::{db_type}[])", (values,), output_field=BooleanField())


def _stay_fact(stay: StayRow, areas: dict[str, Area]) -> f.StayFact:
    area = areas.get(stay.area_id)
    return f.StayFact(
        id=stay.pk,
        ingestion_id=stay.ingestion_id or 0,
        source=stay.source,
        area_code=stay.area_id,
        city_code=(area.city_id if area else None) or stay.area_id,
        precision=stay.precision,
        arrived_at=stay.arrived_at,
        departed_at=stay.departed_at,
        refunded=stay.refunded,
        phone_hash=stay.phone_hash,
        area_name=area.full_name if area else "",
    )


def _group(rows, key) -> dict:
    grouped: dict = defaultdict(list)
    for row in rows:
        grouped[key(row)].append(row)
    return grouped


def person_facts(person_id: int, t: dt.datetime) -> f.Facts:
    """Everything the rules may read about one person at `t`."""
    return persons_facts([person_id], t)[person_id]


def persons_facts(person_ids: list[int], t: dt.datetime) -> dict[int, f.Facts]:
    """The facts of many persons at `t`, with one indexed query per kind of fact for the whole
    batch (never a query per person): recomputing a chunk of 500 costs as many queries as one."""
    ids = list(person_ids)
    policy = policy_at(t)
    window_start = t - policy.lookback
    phones = list(
        Phone.objects.filter(in_array(Phone, "person", ids)).values_list(
            "person_id", "number_hash", "bound_at", "unbound_at"
        )
    )
    phones_of = _group(phones, lambda p: p[0])
    owners = _group(phones, lambda p: p[1])
    in_window = Q(departed_at__isnull=True) | Q(departed_at__gte=window_start)
    stays = Stay.objects.filter(refunded=False).filter(in_window)
    direct = [StayRow(*r) for r in stays.filter(in_array(Stay, "person", ids)).values_list(*STAY_COLUMNS)]
    hashes = list(owners)
    telecom = []
    for start in range(0, len(hashes), 1000):
        chunk = in_array(Stay, "phone_hash", hashes[start : start + 1000], "text")
        telecom += [StayRow(*r) for r in stays.filter(chunk).values_list(*STAY_COLUMNS)]
    stays_of: dict[int, list[StayRow]] = _group(direct, lambda s: s.person_id)
    for stay in telecom:
        for person_id in {p[0] for p in owners.get(stay.phone_hash, ())}:
            stays_of[person_id].append(stay)

    declarations = list(
        ItineraryDeclaration.objects.filter(in_array(ItineraryDeclaration, "person", ids)).prefetch_related("places")
    )
    place_codes = {p.area_id for d in declarations for p in d.places.all()}
    all_stays = direct + telecom
    areas = {a.code: a for a in Area.objects.filter(code__in={s.area_id for s in all_stays} | place_codes)}
    county_codes = {s.area_id for s in all_stays if s.precision == "county"} | place_codes
    city_codes = {s.area_id for s in all_stays if s.precision == "city"} | {
        areas[c].city_id for c in place_codes if c in areas and areas[c].city_id
    }
    designations = []
    if county_codes or city_codes:
        designations = list(
            RiskDesignation.objects.filter(
                Q(area_id__in=county_codes) | Q(area__city_id__in=city_codes)
            ).select_related("area")
        )
    designation_facts = [
        f.DesignationFact(
            id=d.pk,
            ingestion_id=d.ingestion_id or 0,
            area_code=d.area_id,
            city_code=d.area.city_id or d.area_id,
            level=d.level,
            effective_from=d.effective_from,
            area_name=d.area.full_name,
        )
        for d in designations
    ]
    today = local_date(t)
    local_cases = [
        f.LocalCaseFact(r.pk, r.ingestion_id or 0, r.area_id, r.reported_on)
        for r in LocalCaseReport.objects.filter(
            area_id__in=county_codes, reported_on__gt=today - dt.timedelta(days=policy.local_case_clear_days + 1)
        )
    ]
    ports = [
        f.BorderPortFact(p.pk, p.ingestion_id or 0, p.area_id, p.effective_from, p.effective_to)
        for p in BorderPortCounty.objects.filter(area_id__in=county_codes)
    ]
    labs = _group(
        LabResult.objects.filter(in_array(LabResult, "person", ids), result="negative").values_list(
            "person_id", "pk", "ingestion_id", "sampled_at", "result"
        ),
        lambda r: r[0],
    )
    events = _group(
        HealthEvent.objects.filter(in_array(HealthEvent, "person", ids)).values_list(
            "person_id", "pk", "ingestion_id", "kind", "occurred_at", "detail"
        ),
        lambda e: e[0],
    )
    arrivals = _group(
        InboundArrival.objects.filter(in_array(InboundArrival, "person", ids)).values_list(
            "person_id", "pk", "ingestion_id", "entered_at", "quarantine_completed_at"
        ),
        lambda a: a[0],
    )
    orders = _group(
        ObservationOrder.objects.filter(in_array(ObservationOrder, "person", ids)).values_list(
            "person_id", "pk", "ingestion_id", "kind", "starts_at", "ends_at", "ended_at"
        ),
        lambda o: o[0],
    )
    associations = _group(
        Association.objects.filter(in_array(Association, "person", ids), observed_at__gte=window_start).values_list(
            "person_id", "pk", "ingestion_id", "kind", "observed_at"
        ),
        lambda a: a[0],
    )
    declarations_of = _group(declarations, lambda d: d.person_id)
    releases = _group(
        Release.objects.filter(in_array(Release, "person", ids)).values_list(
            "person_id", "pk", "popup_number", "evidence_watermark", "created_at"
        ),
        lambda r: r[0],
    )
    next_policy = (
        PolicyVersion.objects.filter(effective_from__gt=t)
        .order_by("effective_from")
        .values_list("effective_from", flat=True)
        .first()
    )

    def relevant(person_stays):
        codes = {s.area_id for s in person_stays if s.precision == "county"}
        cities = {s.area_id for s in person_stays if s.precision == "city"}
        return codes, cities

    result = {}
    for person_id in ids:
        person_stays = stays_of.get(person_id, [])
        person_declarations = declarations_of.get(person_id, [])
        codes, cities = relevant(person_stays)
        for d in person_declarations:
            for p in d.places.all():
                codes.add(p.area_id)
                if p.area_id in areas and areas[p.area_id].city_id:
                    cities.add(areas[p.area_id].city_id)
        result[person_id] = f.Facts(
            policy=policy,
            next_policy_at=next_policy,
            stays=tuple(_stay_fact(s, areas) for s in person_stays),
            phones=tuple(f.PhoneFact(h, b, u) for _p, h, b, u in phones_of.get(person_id, ())),
            designations=tuple(d for d in designation_facts if d.area_code in codes or d.city_code in cities),
            local_cases=tuple(r for r in local_cases if r.area_code in codes),
            border_ports=tuple(p for p in ports if p.area_code in codes),
            labs=tuple(f.LabFact(pk, ing or 0, sampled, res) for _p, pk, ing, sampled, res in labs.get(person_id, ())),
            events=tuple(
                f.EventFact(pk, ing or 0, kind, occurred, detail)
                for _p, pk, ing, kind, occurred, detail in events.get(person_id, ())
            ),
            arrivals=tuple(
                f.ArrivalFact(pk, ing or 0, entered, completed)
                for _p, pk, ing, entered, completed in arrivals.get(person_id, ())
            ),
            orders=tuple(
                f.OrderFact(pk, ing or 0, kind, starts, ends, ended)
                for _p, pk, ing, kind, starts, ends, ended in orders.get(person_id, ())
            ),
            associations=tuple(
                f.AssociationFact(pk, ing or 0, kind, observed)
                for _p, pk, ing, kind, observed in associations.get(person_id, ())
            ),
            declarations=tuple(
                f.DeclarationFact(
                    id=d.pk,
                    ingestion_id=d.ingestion_id or 0,
                    source=d.source,
                    submitted_at=d.submitted_at,
                    entered_beijing_at=d.entered_beijing_at,
                    places=tuple(
                        f.PlaceFact(
                            area_code=p.area_id,
                            city_code=(areas[p.area_id].city_id if p.area_id in areas else None) or p.area_id,
                            arrived_at=p.arrived_at,
                            departed_at=p.departed_at,
                        )
                        for p in d.places.all()
                    ),
                )
                for d in person_declarations
            ),
            releases=tuple(f.ReleaseFact(pk, n, w, c) for _p, pk, n, w, c in releases.get(person_id, ())),
        )
    return result


def status_payload(person, row) -> dict:
    """The status of API.md ("Status") from a person and their current status row."""
    t = now()
    valid_until = next_local_midnight(t)
    if row.next_change_at is not None:
        valid_until = min(valid_until, row.next_change_at)
    # A row stored before popups carried their policy parameters: the policy it was computed under.
    policy = policy_at(row.computed_at) if needs_policy(row.popups) else None
    return {
        "ref": person.ref,
        "display_name": person.display_name,
        "display_id": person.display_id,
        "state": row.state,
        "colour": STATE_COLOUR[row.state],
        "label": STATE_LABEL[row.state],
        "state_since": row.state_since.isoformat(),
        "popups": popups_shown(row.popups, policy=policy),
        "reasons": reasons_shown(row.reasons),
        "valid_until": valid_until.isoformat(),
        "computed_at": row.computed_at.isoformat(),
    }
