"""Reads for the status engine: gathering one person's facts at `t` with a fixed, small number of
indexed queries, and reading the materialised status."""

import datetime as dt

from django.db.models import Q

from apps.areas.models import Area, BorderPortCounty, LocalCaseReport, PolicyVersion, RiskDesignation
from apps.areas.selectors import policy_at
from apps.core.clock import local_date
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

from .engine import facts as f
from .models import Release


def _stay_fact(stay: Stay, areas: dict[str, Area]) -> f.StayFact:
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


def person_facts(person_id: int, t: dt.datetime) -> f.Facts:
    """Everything the rules may read about one person at `t`."""
    policy = policy_at(t)
    window_start = t - policy.lookback
    phones = list(Phone.objects.filter(person_id=person_id).values_list("number_hash", "bound_at", "unbound_at"))
    hashes = [h for h, _b, _u in phones]
    in_window = Q(departed_at__isnull=True) | Q(departed_at__gte=window_start)
    stay_filter = Q(person_id=person_id)
    if hashes:
        stay_filter |= Q(phone_hash__in=hashes)
    stays = list(Stay.objects.filter(stay_filter).filter(in_window).filter(refunded=False))

    declarations = list(ItineraryDeclaration.objects.filter(person_id=person_id).prefetch_related("places"))
    place_codes = {p.area_id for d in declarations for p in d.places.all()}
    stay_codes = {s.area_id for s in stays}
    areas = {a.code: a for a in Area.objects.filter(code__in=stay_codes | place_codes)}
    county_codes = {s.area_id for s in stays if s.precision == "county"} | place_codes
    city_codes = {s.area_id for s in stays if s.precision == "city"}

    designations = []
    if county_codes or city_codes:
        designations = list(
            RiskDesignation.objects.filter(Q(area_id__in=county_codes) | Q(area__city_id__in=city_codes)).select_related("area")
        )
    today = local_date(t)
    local_cases = list(
        LocalCaseReport.objects.filter(
            area_id__in=county_codes, reported_on__gt=today - dt.timedelta(days=policy.local_case_clear_days + 1)
        )
    )
    ports = list(BorderPortCounty.objects.filter(area_id__in=county_codes))
    labs = list(LabResult.objects.filter(person_id=person_id, result="negative").values_list("pk", "ingestion_id", "sampled_at", "result"))
    events = list(HealthEvent.objects.filter(person_id=person_id))
    arrivals = list(InboundArrival.objects.filter(person_id=person_id))
    orders = list(ObservationOrder.objects.filter(person_id=person_id))
    associations = list(Association.objects.filter(person_id=person_id, observed_at__gte=window_start))
    releases = list(Release.objects.filter(person_id=person_id).values_list("pk", "popup_number", "evidence_watermark", "created_at"))
    next_policy = PolicyVersion.objects.filter(effective_from__gt=t).order_by("effective_from").values_list("effective_from", flat=True).first()

    return f.Facts(
        policy=policy,
        next_policy_at=next_policy,
        stays=tuple(_stay_fact(s, areas) for s in stays),
        phones=tuple(f.PhoneFact(h, b, u) for h, b, u in phones),
        designations=tuple(
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
        ),
        local_cases=tuple(f.LocalCaseFact(r.pk, r.ingestion_id or 0, r.area_id, r.reported_on) for r in local_cases),
        border_ports=tuple(
            f.BorderPortFact(p.pk, p.ingestion_id or 0, p.area_id, p.effective_from, p.effective_to) for p in ports
        ),
        labs=tuple(f.LabFact(pk, ing or 0, sampled, result) for pk, ing, sampled, result in labs),
        events=tuple(f.EventFact(e.pk, e.ingestion_id or 0, e.kind, e.occurred_at, e.detail) for e in events),
        arrivals=tuple(
            f.ArrivalFact(a.pk, a.ingestion_id or 0, a.entered_at, a.quarantine_completed_at) for a in arrivals
        ),
        orders=tuple(
            f.OrderFact(o.pk, o.ingestion_id or 0, o.kind, o.starts_at, o.ends_at, o.ended_at) for o in orders
        ),
        associations=tuple(f.AssociationFact(a.pk, a.ingestion_id or 0, a.kind, a.observed_at) for a in associations),
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
            for d in declarations
        ),
        releases=tuple(f.ReleaseFact(pk, n, w, c) for pk, n, w, c in releases),
    )


def status_payload(person, row) -> dict:
    """The status of API.md ("Status") from a person and their current status row."""
    from apps.core.clock import next_local_midnight, now

    from .presentation import POPUP_GUIDANCE, POPUP_TITLE, STATE_COLOUR, STATE_LABEL

    t = now()
    valid_until = next_local_midnight(t)
    if row.next_change_at is not None:
        valid_until = min(valid_until, row.next_change_at)
    popups = []
    for popup in row.popups:
        number = popup["number"]
        popups.append({"number": number, "title": POPUP_TITLE[number], "guidance": POPUP_GUIDANCE[number], **popup})
    return {
        "ref": person.ref,
        "display_name": person.display_name,
        "display_id": person.display_id,
        "state": row.state,
        "colour": STATE_COLOUR[row.state],
        "label": STATE_LABEL[row.state],
        "state_since": row.state_since.isoformat(),
        "popups": popups,
        "reasons": row.reasons,
        "valid_until": valid_until.isoformat(),
        "computed_at": row.computed_at.isoformat(),
    }
