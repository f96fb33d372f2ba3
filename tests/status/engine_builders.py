"""Small builders of engine facts (apps/status/engine/facts.py) and readers of its results, for the
tests of the pure rules engine. Every builder gives a fresh id; `ingestion_id` defaults to the id,
so facts built later were "learnt later" unless a test says otherwise."""

import datetime as dt
import itertools

from apps.core.clock import LOCAL_TZ
from apps.policy.selectors import Policy
from apps.status.engine.facts import (
    ArrivalFact,
    AssociationFact,
    BorderPortFact,
    DeclarationFact,
    DesignationFact,
    EventFact,
    Facts,
    LabFact,
    LocalCaseFact,
    OrderFact,
    PhoneFact,
    PlaceFact,
    ReleaseFact,
    StayFact,
)
from apps.status.engine.result import Finding, PopupState, StatusResult

US = dt.timedelta(microseconds=1)
SECOND = dt.timedelta(seconds=1)
MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)

# Two counties of one city, a county of another city, and a land-border-port county.
RISK_COUNTY = "321003"  # 扬州市邗江区
LOW_COUNTY = "321002"  # 扬州市广陵区, same city
RISK_CITY = "321000"  # 扬州市
OTHER_COUNTY = "320115"  # 南京市江宁区
OTHER_CITY = "320100"  # 南京市
BORDER_COUNTY = "533102"  # 瑞丽市
BORDER_CITY = "533100"  # 德宏州

_ids = itertools.count(1000)


def next_id() -> int:
    return next(_ids)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0) -> dt.datetime:
    """An aware moment in local (Asia/Shanghai) time."""
    return dt.datetime(year, month, day, hour, minute, second, micro, tzinfo=LOCAL_TZ)


def city_of(code: str) -> str:
    return code[:4] + "00"


def is_city(code: str) -> bool:
    return code.endswith("00")


def _ids_of(id_: int | None, ingestion_id: int | None) -> tuple[int, int]:
    id_ = next_id() if id_ is None else id_
    return id_, id_ if ingestion_id is None else ingestion_id


def stay(
    area: str,
    arrived: dt.datetime,
    departed: dt.datetime | None = None,
    *,
    source: str = "rail",
    precision: str | None = None,
    refunded: bool = False,
    phone_hash: str = "",
    id: int | None = None,
    ingestion_id: int | None = None,
) -> StayFact:
    id_, ing = _ids_of(id, ingestion_id)
    return StayFact(
        id=id_,
        ingestion_id=ing,
        source=source,
        area_code=area,
        city_code=city_of(area),
        precision=precision or ("city" if is_city(area) else "county"),
        arrived_at=arrived,
        departed_at=departed,
        refunded=refunded,
        phone_hash=phone_hash,
    )


def telecom_stay(
    city: str,
    arrived: dt.datetime,
    departed: dt.datetime | None = None,
    *,
    phone_hash: str = "phone-1",
    id: int | None = None,
    ingestion_id: int | None = None,
) -> StayFact:
    """A telecom itinerary record: city precision, belonging to a phone number."""
    return stay(
        city,
        arrived,
        departed,
        source="telecom",
        precision="city",
        phone_hash=phone_hash,
        id=id,
        ingestion_id=ingestion_id,
    )


def phone(number_hash: str, bound_at: dt.datetime, unbound_at: dt.datetime | None = None) -> PhoneFact:
    return PhoneFact(number_hash=number_hash, bound_at=bound_at, unbound_at=unbound_at)


def designation(
    area: str,
    level: str,
    effective_from: dt.datetime,
    *,
    id: int | None = None,
    ingestion_id: int | None = None,
) -> DesignationFact:
    id_, ing = _ids_of(id, ingestion_id)
    return DesignationFact(
        id=id_, ingestion_id=ing, area_code=area, city_code=city_of(area), level=level, effective_from=effective_from
    )


def local_case(area: str, reported_on: dt.date, *, id: int | None = None) -> LocalCaseFact:
    id_, ing = _ids_of(id, None)
    return LocalCaseFact(id=id_, ingestion_id=ing, area_code=area, reported_on=reported_on)


def border_port(
    area: str, effective_from: dt.datetime, effective_to: dt.datetime | None = None, *, id: int | None = None
) -> BorderPortFact:
    id_, ing = _ids_of(id, None)
    return BorderPortFact(
        id=id_, ingestion_id=ing, area_code=area, effective_from=effective_from, effective_to=effective_to
    )


def lab(sampled_at: dt.datetime, result: str = "negative", *, id: int | None = None) -> LabFact:
    id_, ing = _ids_of(id, None)
    return LabFact(id=id_, ingestion_id=ing, sampled_at=sampled_at, result=result)


def event(kind: str, occurred_at: dt.datetime, detail: str = "", *, id: int | None = None) -> EventFact:
    id_, ing = _ids_of(id, None)
    return EventFact(id=id_, ingestion_id=ing, kind=kind, occurred_at=occurred_at, detail=detail)


def arrival(
    entered_at: dt.datetime, quarantine_completed_at: dt.datetime | None = None, *, id: int | None = None
) -> ArrivalFact:
    id_, ing = _ids_of(id, None)
    return ArrivalFact(id=id_, ingestion_id=ing, entered_at=entered_at, quarantine_completed_at=quarantine_completed_at)


def order(
    kind: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime | None = None,
    ended_at: dt.datetime | None = None,
    *,
    id: int | None = None,
) -> OrderFact:
    id_, ing = _ids_of(id, None)
    return OrderFact(id=id_, ingestion_id=ing, kind=kind, starts_at=starts_at, ends_at=ends_at, ended_at=ended_at)


def association(
    observed_at: dt.datetime,
    kind: str = "epidemiological",
    *,
    id: int | None = None,
    ingestion_id: int | None = None,
) -> AssociationFact:
    id_, ing = _ids_of(id, ingestion_id)
    return AssociationFact(id=id_, ingestion_id=ing, kind=kind, observed_at=observed_at)


def place(area: str, arrived: dt.datetime, departed: dt.datetime | None = None) -> PlaceFact:
    return PlaceFact(area_code=area, city_code=city_of(area), arrived_at=arrived, departed_at=departed)


def declaration(
    submitted_at: dt.datetime,
    *places: PlaceFact,
    source: str = "declared",
    entered_beijing_at: dt.datetime | None = None,
    id: int | None = None,
) -> DeclarationFact:
    id_, ing = _ids_of(id, None)
    return DeclarationFact(
        id=id_,
        ingestion_id=ing,
        source=source,
        submitted_at=submitted_at,
        entered_beijing_at=entered_beijing_at,
        places=tuple(places),
    )


def hotel_check_in(submitted_at: dt.datetime, *, id: int | None = None) -> DeclarationFact:
    """A hotel check-in that hotel staff verified with a negative NAT (SPEC §4)."""
    return declaration(submitted_at, source="hotel", id=id)


def release(watermark: int, created_at: dt.datetime, popup_number: int = 3, *, id: int | None = None) -> ReleaseFact:
    return ReleaseFact(
        id=next_id() if id is None else id, popup_number=popup_number, watermark=watermark, created_at=created_at
    )


_FIELD_OF = {
    StayFact: "stays",
    PhoneFact: "phones",
    DesignationFact: "designations",
    LocalCaseFact: "local_cases",
    BorderPortFact: "border_ports",
    LabFact: "labs",
    EventFact: "events",
    ArrivalFact: "arrivals",
    OrderFact: "orders",
    AssociationFact: "associations",
    DeclarationFact: "declarations",
    ReleaseFact: "releases",
}


def facts(*items, policy: Policy | None = None, next_policy_at: dt.datetime | None = None) -> Facts:
    """Facts from any mix of fact records, each sorted into its own tuple."""
    groups: dict[str, list] = {}
    for item in items:
        groups.setdefault(_FIELD_OF[type(item)], []).append(item)
    return Facts(
        policy=policy or Policy(),
        next_policy_at=next_policy_at,
        **{name: tuple(values) for name, values in groups.items()},
    )


# Readers of a result.


def popup_numbers(result: StatusResult) -> list[int]:
    return [p.number for p in result.popups]


def popup(result: StatusResult, number: int) -> PopupState:
    matches = [p for p in result.popups if p.number == number]
    assert matches, f"popup {number} is not active: {popup_numbers(result)}"
    return matches[0]


def rules(result: StatusResult) -> list[str]:
    return sorted(r.rule for r in result.reasons)


def reasons_for(result: StatusResult, rule: str) -> list[Finding]:
    return [r for r in result.reasons if r.rule == rule]


def evidence_of(finding: Finding) -> set[tuple[str, int]]:
    return {(e.kind, e.id) for e in finding.evidence}


def is_green(result: StatusResult) -> bool:
    return result.state == "green" and not result.popups and not result.reasons
