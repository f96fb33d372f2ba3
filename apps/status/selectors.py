"""Reads for the status engine: gathering one person's facts at `t` with a fixed, small number of
indexed queries, and reading the materialised status."""

import datetime as dt
from collections import defaultdict, namedtuple

from django.db.models import Q

from apps.areas.models import Area
from apps.core.bulk import in_array
from apps.core.clock import local_date, next_local_midnight, now
from apps.evidence.models import (
    Association,
    DeclaredPlace,
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
DECLARATION_COLUMNS = ("pk", "person_id", "ingestion_id", "source", "submitted_at", "entered_beijing_at")
DeclarationRow = namedtuple("DeclarationRow", (*DECLARATION_COLUMNS, "places"))  # places: (area, arrived, departed)
AreaRow = namedtuple("AreaRow", ("city_id", "full_name"))


def _in_order(queryset):
    """The model's own ordering with the primary key last: ties (two orders starting at the same
    moment) come back in one order whether a person's facts are read alone or with a chunk's, so
    reasons that sort equal keep one order (the fast path's property test found the difference)."""
    return queryset.order_by(*queryset.model._meta.ordering, "pk")


def _stay_fact(stay: StayRow, areas: dict[str, AreaRow]) -> f.StayFact:
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
        _in_order(Phone.objects.filter(in_array(Phone, "person", ids))).values_list(
            "person_id", "number_hash", "bound_at", "unbound_at"
        )
    )
    phones_of = _group(phones, lambda p: p[0])
    owners = _group(phones, lambda p: p[1])
    in_window = Q(departed_at__isnull=True) | Q(departed_at__gte=window_start)
    stays = Stay.objects.filter(refunded=False).filter(in_window)
    direct = [StayRow(*r) for r in _in_order(stays.filter(in_array(Stay, "person", ids))).values_list(*STAY_COLUMNS)]
    hashes = list(owners)
    telecom = []
    for start in range(0, len(hashes), 1000):
        chunk = in_array(Stay, "phone_hash", hashes[start : start + 1000], "text")
        telecom += [StayRow(*r) for r in _in_order(stays.filter(chunk)).values_list(*STAY_COLUMNS)]
    stays_of: dict[int, list[StayRow]] = _group(direct, lambda s: s.person_id)
    for stay in telecom:
        for person_id in {p[0] for p in owners.get(stay.phone_hash, ())}:
            stays_of[person_id].append(stay)

    # Declarations and their places as plain rows; the places' query only when there is one (most
    # chunks have none: a prefetch still cost a query and a model instance a declaration).
    declarations = [
        DeclarationRow(*row, places=[])
        for row in _in_order(
            ItineraryDeclaration.objects.filter(in_array(ItineraryDeclaration, "person", ids))
        ).values_list(*DECLARATION_COLUMNS)
    ]
    if declarations:
        by_id = {d.pk: d for d in declarations}
        for declaration_id, *place in _in_order(
            DeclaredPlace.objects.filter(declaration_id__in=list(by_id))
        ).values_list("declaration_id", "area_id", "arrived_at", "departed_at"):
            by_id[declaration_id].places.append(place)
    place_codes = {area_code for d in declarations for area_code, _a, _d in d.places}
    all_stays = direct + telecom
    areas = {
        code: AreaRow(city_id, full_name)
        for code, city_id, full_name in Area.objects.filter(
            code__in={s.area_id for s in all_stays} | place_codes
        ).values_list("code", "city_id", "full_name")
    }
    county_codes = {s.area_id for s in all_stays if s.precision == "county"} | place_codes
    city_codes = {s.area_id for s in all_stays if s.precision == "city"} | {
        areas[c].city_id for c in place_codes if c in areas and areas[c].city_id
    }
    designation_facts = []
    if county_codes or city_codes:
        designation_facts = [
            f.DesignationFact(
                id=pk,
                ingestion_id=ingestion_id or 0,
                area_code=area_code,
                city_code=city_id or area_code,
                level=level,
                effective_from=effective_from,
                area_name=full_name,
            )
            for pk, ingestion_id, area_code, city_id, level, effective_from, full_name in _in_order(
                RiskDesignation.objects.filter(Q(area_id__in=county_codes) | Q(area__city_id__in=city_codes))
            ).values_list(
                "pk", "ingestion_id", "area_id", "area__city_id", "level", "effective_from", "area__full_name"
            )
        ]
    today = local_date(t)
    local_cases = []
    ports = []
    if county_codes:
        local_cases = [
            f.LocalCaseFact(pk, ingestion_id or 0, area_code, reported_on)
            for pk, ingestion_id, area_code, reported_on in _in_order(
                LocalCaseReport.objects.filter(
                    area_id__in=county_codes,
                    reported_on__gt=today - dt.timedelta(days=policy.local_case_clear_days + 1),
                )
            ).values_list("pk", "ingestion_id", "area_id", "reported_on")
        ]
        ports = [
            f.BorderPortFact(pk, ingestion_id or 0, area_code, starts, ends)
            for pk, ingestion_id, area_code, starts, ends in _in_order(
                BorderPortCounty.objects.filter(area_id__in=county_codes)
            ).values_list("pk", "ingestion_id", "area_id", "effective_from", "effective_to")
        ]
    labs = _group(
        _in_order(LabResult.objects.filter(in_array(LabResult, "person", ids), result="negative")).values_list(
            "person_id", "pk", "ingestion_id", "sampled_at", "result"
        ),
        lambda r: r[0],
    )
    events = _group(
        _in_order(HealthEvent.objects.filter(in_array(HealthEvent, "person", ids))).values_list(
            "person_id", "pk", "ingestion_id", "kind", "occurred_at", "detail"
        ),
        lambda e: e[0],
    )
    arrivals = _group(
        _in_order(InboundArrival.objects.filter(in_array(InboundArrival, "person", ids))).values_list(
            "person_id", "pk", "ingestion_id", "entered_at", "quarantine_completed_at"
        ),
        lambda a: a[0],
    )
    orders = _group(
        _in_order(ObservationOrder.objects.filter(in_array(ObservationOrder, "person", ids))).values_list(
            "person_id", "pk", "ingestion_id", "kind", "starts_at", "ends_at", "ended_at"
        ),
        lambda o: o[0],
    )
    associations = _group(
        _in_order(
            Association.objects.filter(in_array(Association, "person", ids), observed_at__gte=window_start)
        ).values_list("person_id", "pk", "ingestion_id", "kind", "observed_at"),
        lambda a: a[0],
    )
    declarations_of = _group(declarations, lambda d: d.person_id)
    releases = _group(
        _in_order(Release.objects.filter(in_array(Release, "person", ids))).values_list(
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
            for area_code, _arrived, _departed in d.places:
                codes.add(area_code)
                if area_code in areas and areas[area_code].city_id:
                    cities.add(areas[area_code].city_id)
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
                            area_code=area_code,
                            city_code=(areas[area_code].city_id if area_code in areas else None) or area_code,
                            arrived_at=arrived,
                            departed_at=departed,
                        )
                        for area_code, arrived, departed in d.places
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
