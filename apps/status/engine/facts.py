"""Plain, immutable facts the rules read. Every fact carries its `ingestion_id`: the order in which
the portal learnt it, which is what a release covers (SPEC §5)."""

import datetime as dt
from dataclasses import dataclass, field

from apps.policy.parameters import Policy


@dataclass(frozen=True)
class StayFact:
    id: int
    ingestion_id: int
    source: str
    area_code: str
    city_code: str  # the city the area lies in (itself for a city)
    precision: str  # "county" or "city"
    arrived_at: dt.datetime
    departed_at: dt.datetime | None = None
    refunded: bool = False
    phone_hash: str = ""  # telecom stays belong to a phone number
    area_name: str = ""


@dataclass(frozen=True)
class PhoneFact:
    number_hash: str
    bound_at: dt.datetime
    unbound_at: dt.datetime | None = None


@dataclass(frozen=True)
class DesignationFact:
    id: int
    ingestion_id: int
    area_code: str
    city_code: str
    level: str
    effective_from: dt.datetime
    area_name: str = ""


@dataclass(frozen=True)
class LocalCaseFact:
    id: int
    ingestion_id: int
    area_code: str
    reported_on: dt.date


@dataclass(frozen=True)
class BorderPortFact:
    id: int
    ingestion_id: int
    area_code: str
    effective_from: dt.datetime
    effective_to: dt.datetime | None = None


@dataclass(frozen=True)
class LabFact:
    id: int
    ingestion_id: int
    sampled_at: dt.datetime
    result: str


@dataclass(frozen=True)
class EventFact:
    id: int
    ingestion_id: int
    kind: str
    occurred_at: dt.datetime
    detail: str = ""


@dataclass(frozen=True)
class ArrivalFact:
    id: int
    ingestion_id: int
    entered_at: dt.datetime
    quarantine_completed_at: dt.datetime | None = None


@dataclass(frozen=True)
class OrderFact:
    id: int
    ingestion_id: int
    kind: str  # "centralized" or "home"
    starts_at: dt.datetime
    ends_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None


@dataclass(frozen=True)
class AssociationFact:
    id: int
    ingestion_id: int
    kind: str
    observed_at: dt.datetime


@dataclass(frozen=True)
class PlaceFact:
    area_code: str
    city_code: str
    arrived_at: dt.datetime
    departed_at: dt.datetime | None = None


@dataclass(frozen=True)
class DeclarationFact:
    """An itinerary declaration (`source="declared"`), or a hotel check-in that verified the guest
    (`source="hotel"`: covers every city-precision stay begun before `submitted_at` and satisfies
    popup ④ for triggers up to then)."""

    id: int
    ingestion_id: int
    source: str
    submitted_at: dt.datetime
    entered_beijing_at: dt.datetime | None = None
    places: tuple[PlaceFact, ...] = ()


@dataclass(frozen=True)
class ReleaseFact:
    id: int
    popup_number: int
    watermark: int
    created_at: dt.datetime


@dataclass(frozen=True)
class Facts:
    policy: Policy = field(default_factory=Policy)
    next_policy_at: dt.datetime | None = None
    stays: tuple[StayFact, ...] = ()
    phones: tuple[PhoneFact, ...] = ()
    designations: tuple[DesignationFact, ...] = ()
    local_cases: tuple[LocalCaseFact, ...] = ()
    border_ports: tuple[BorderPortFact, ...] = ()
    labs: tuple[LabFact, ...] = ()
    events: tuple[EventFact, ...] = ()
    arrivals: tuple[ArrivalFact, ...] = ()
    orders: tuple[OrderFact, ...] = ()
    associations: tuple[AssociationFact, ...] = ()
    declarations: tuple[DeclarationFact, ...] = ()
    releases: tuple[ReleaseFact, ...] = ()
