"""The recomputation's fast path is the plain engine (issue 17): over random worlds stored in the
database, what `status_refresh_many` stores for a chunk of persons — facts read set-based for the
whole chunk, rows locked and compared as plain values, unchanged rows not written — equals
`evaluate(person_facts(person, t), t)` for each person alone: state, popups, reasons,
`next_change_at` and `valid_until`, releases and declarations included. After a change of the
world (a designation published, facts added) and a random later clock it still does; a second
recomputation with nothing changed writes nothing (version, `computed_at` and the table as they
were) and a dirty row is always written."""

import datetime as dt
import itertools

import time_machine
from django.contrib.auth import get_user_model
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.areas.models import Area
from apps.evidence.models import (
    Association,
    DeclaredPlace,
    HealthEvent,
    InboundArrival,
    Ingestion,
    ItineraryDeclaration,
    LabResult,
    ObservationOrder,
    Stay,
)
from apps.people.models import Phone
from apps.people.services import person_upsert
from apps.policy.models import BorderPortCounty, LocalCaseReport, PolicyVersion, RiskDesignation
from apps.policy.selectors import policy_at
from apps.status.engine import evaluate
from apps.status.engine import facts as f
from apps.status.models import PersonStatus, Release
from apps.status.selectors import person_facts
from apps.status.services import status_refresh_many
from tests.status.engine_builders import BORDER_COUNTY, LOW_COUNTY, OTHER_COUNTY, RISK_CITY, RISK_COUNTY, city_of
from tests.status.test_status_services import rid

BASE = dt.datetime(2022, 5, 1, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
COUNTIES = (RISK_COUNTY, LOW_COUNTY, OTHER_COUNTY, BORDER_COUNTY)
CITIES = (RISK_CITY, city_of(OTHER_COUNTY))
NUMBERS = ("h-phone-1", "h-phone-2", "h-phone-3")
EVENTS = (("beijing_entry", ""), ("drug_purchase", "antipyretic"), ("clinic_visit", "fever"), ("clinic_visit", "x"))
WORLD_SETTINGS = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,  # the same worlds on every run: no flaky failures, no example database
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)


def moment():
    """Whole hours over 30 days from BASE, sometimes a microsecond off, so that edges coincide."""
    return st.builds(
        lambda hours, extra: BASE + hours * HOUR + extra,
        st.integers(0, 30 * 24),
        st.sampled_from([dt.timedelta(0), dt.timedelta(0), dt.timedelta(microseconds=1)]),
    )


def later(start):
    return st.one_of(st.none(), st.integers(1, 10 * 24).map(lambda h: start + h * HOUR))


@st.composite
def facts_of_world(draw, persons: int) -> list[tuple]:
    """Rows to store, as (kind, values); `person` is an index, `ingestion` an index or None."""
    rows = []
    ingestion = st.one_of(st.none(), st.integers(0, 2))
    for _ in range(draw(st.integers(0, 6))):
        arrived = draw(moment())
        departed = draw(later(arrived))
        if draw(st.booleans()):
            rows.append(
                ("stay", dict(person=draw(st.integers(0, persons - 1)), area=draw(st.sampled_from(COUNTIES)),
                              precision="county", source=draw(st.sampled_from(["rail", "hotel"])), arrived=arrived,
                              departed=departed, refunded=draw(st.booleans()) and draw(st.booleans()),
                              phone_hash="", ingestion=draw(ingestion)))
            )  # fmt: skip
        else:
            rows.append(
                ("stay", dict(person=None, area=draw(st.sampled_from(CITIES)), precision="city", source="telecom",
                              arrived=arrived, departed=departed, refunded=False,
                              phone_hash=draw(st.sampled_from(NUMBERS)), ingestion=draw(ingestion)))
            )  # fmt: skip
    for _ in range(draw(st.integers(0, 4))):
        bound = draw(moment())
        rows.append(("phone", dict(person=draw(st.integers(0, persons - 1)), number=draw(st.sampled_from(NUMBERS)),
                                   bound=bound, unbound=draw(later(bound)))))  # fmt: skip
    for _ in range(draw(st.integers(0, 3))):
        rows.append(("designation", dict(area=draw(st.sampled_from(COUNTIES)), ingestion=draw(ingestion),
                                         level=draw(st.sampled_from(["low", "medium", "high"])),
                                         effective_from=draw(moment()))))  # fmt: skip
    for _ in range(draw(st.integers(0, 2))):
        rows.append(("local_case", dict(area=draw(st.sampled_from(COUNTIES)), reported_on=draw(moment()).date(),
                                        ingestion=draw(ingestion))))  # fmt: skip
    if draw(st.booleans()):
        starts = draw(moment())
        rows.append(("border_port", dict(area=BORDER_COUNTY, starts=starts, ends=draw(later(starts)))))
    for kind in ("lab", "event", "arrival", "order", "association", "declaration", "release"):
        for _ in range(draw(st.integers(0, 2 if kind in ("lab", "event") else 1))):
            values = dict(person=draw(st.integers(0, persons - 1)), at=draw(moment()), ingestion=draw(ingestion))
            if kind == "lab":
                values["result"] = draw(st.sampled_from(["negative", "positive"]))
            elif kind == "event":
                values["kind"], values["detail"] = draw(st.sampled_from(EVENTS))
            elif kind == "arrival":
                values["completed"] = draw(later(values["at"]))
            elif kind == "order":
                values["kind"] = draw(st.sampled_from(["centralized", "home"]))
                values["ends"] = draw(later(values["at"]))
                values["ended"] = draw(later(values["at"]))
            elif kind == "association":
                values["kind"] = draw(st.sampled_from(["epidemiological", "venue_scan"]))
            elif kind == "declaration":
                values["source"] = draw(st.sampled_from(["declared", "hotel"]))
                values["entered"] = draw(st.one_of(st.none(), moment()))
                values["places"] = [
                    (draw(st.sampled_from(COUNTIES)), arrived, draw(later(arrived)))
                    for arrived in draw(st.lists(moment(), max_size=2))
                ]
            elif kind == "release":
                values["popup"] = draw(st.sampled_from([3, 3, 4, 5]))
                values["watermark"] = draw(st.sampled_from([0, 1, 2, 3]))  # an ingestion index + 1, or none
            rows.append((kind, values))
    return rows


class World:
    """Stores drawn rows: persons once, then any number of batches of facts."""

    def __init__(self, persons: int):
        self.people = [
            person_upsert(id_type="resident_id", id_number=rid(f"11010519900101{n:03d}"), name="测试")[0]
            for n in range(persons)
        ]
        self.ingestions = [Ingestion.objects.create(feed="stays", received_at=BASE) for _ in range(3)]
        self.ext = itertools.count()
        self.stored: dict[str, list] = {}  # kind → the model instances written, for `direct_facts`
        self.actor = get_user_model().objects.get_or_create(username="fast-path-releaser")[0]

    def person(self, index):
        return None if index is None else self.people[index]

    def ingestion(self, index):
        return None if index is None else self.ingestions[index]

    def feed(self, values, source):
        return {
            "source": source,
            "external_id": f"x{next(self.ext)}",
            "person": self.person(values["person"]),
            "ingested_at": BASE,
            "ingestion": self.ingestion(values["ingestion"]),
        }

    def store(self, rows) -> None:
        for kind, v in rows:
            obj = self._store(kind, v)
            if obj is not None:
                self.stored.setdefault(kind, []).append(obj)

    def _store(self, kind, v):
        if kind == "stay":
            return Stay.objects.create(
                **self.feed(v, v["source"]), area_id=v["area"], precision=v["precision"], arrived_at=v["arrived"],
                departed_at=v["departed"], refunded=v["refunded"], phone_hash=v["phone_hash"],
            )  # fmt: skip
        elif kind == "phone":
            phone, created = Phone.objects.get_or_create(
                person=self.person(v["person"]), number_hash=v["number"], channel="alipay",
                defaults={"number_encrypted": "-", "display_number": "-", "bound_at": v["bound"],
                          "unbound_at": v["unbound"]},
            )  # fmt: skip
            return phone if created else None
        elif kind == "designation":
            return RiskDesignation.objects.create(
                area_id=v["area"], level=v["level"], effective_from=v["effective_from"],
                ingestion=self.ingestion(v["ingestion"]),
            )  # fmt: skip
        elif kind == "local_case":
            return LocalCaseReport.objects.create(
                external_id=f"c{next(self.ext)}", area_id=v["area"], reported_on=v["reported_on"],
                ingested_at=BASE, ingestion=self.ingestion(v["ingestion"]),
            )  # fmt: skip
        elif kind == "border_port":
            return BorderPortCounty.objects.create(
                area_id=v["area"], effective_from=v["starts"], effective_to=v["ends"]
            )
        elif kind == "lab":
            return LabResult.objects.create(**self.feed(v, "lab"), sampled_at=v["at"], result=v["result"])
        elif kind == "event":
            return HealthEvent.objects.create(
                **self.feed(v, "clinic"), kind=v["kind"], occurred_at=v["at"], detail=v["detail"]
            )
        elif kind == "arrival":
            return InboundArrival.objects.create(
                **self.feed(v, "border"), entered_at=v["at"], quarantine_completed_at=v["completed"]
            )
        elif kind == "order":
            return ObservationOrder.objects.create(
                **self.feed(v, "cdc"), kind=v["kind"], starts_at=v["at"], ends_at=v["ends"], ended_at=v["ended"]
            )
        elif kind == "association":
            return Association.objects.create(**self.feed(v, "cdc"), kind=v["kind"], observed_at=v["at"])
        elif kind == "declaration":
            declaration = ItineraryDeclaration.objects.create(
                **self.feed(v, v["source"]), submitted_at=v["at"], entered_beijing_at=v["entered"]
            )
            for area, arrived, departed in v["places"]:
                DeclaredPlace.objects.create(
                    declaration=declaration, area_id=area, arrived_at=arrived, departed_at=departed
                )
            return declaration
        elif kind == "release":
            return Release.objects.create(
                person=self.person(v["person"]), popup_number=v["popup"], actor=self.actor, reason="-",
                itinerary_verified=True, nat_negative=True, commitment_signed=True,
                evidence_watermark=self.ingestions[v["watermark"] - 1].pk if v["watermark"] else 0,
                status_before={}, created_at=v["at"],
            )  # fmt: skip

        return None


STORED = ("state", "popups", "reasons", "next_change_at", "valid_until")


def _ordered(objs, *keys):
    """As the reader returns them: by `keys` ("-field" descending), ties by primary key."""
    out = sorted(objs, key=lambda o: o.pk)
    for key in reversed(keys):
        name = key.lstrip("-")
        out.sort(key=lambda o, name=name: getattr(o, name), reverse=key.startswith("-"))
    return out


def direct_facts(world: World, person, t: dt.datetime) -> f.Facts:
    """The person's facts built from the instances the test wrote, not through the reader: every
    row of theirs (none filtered out by window, refund or result), in the reader's documented
    order, so the rules' answer must be the same as from `persons_facts`."""
    rows = world.stored
    areas = {a.code: a for a in Area.objects.all()}

    def city(code):
        return areas[code].city_id or code

    mine = [x for x in rows.get("phone", []) if x.person_id == person.pk]
    numbers = {x.number_hash for x in mine}
    stays = _ordered([x for x in rows.get("stay", []) if x.person_id == person.pk], "-arrived_at") + _ordered(
        [x for x in rows.get("stay", []) if x.person_id is None and x.phone_hash in numbers], "-arrived_at"
    )
    of_person = {kind: [x for x in objs if getattr(x, "person_id", None) == person.pk] for kind, objs in rows.items()}
    next_policy = (
        PolicyVersion.objects.filter(effective_from__gt=t)
        .order_by("effective_from")
        .values_list("effective_from", flat=True)
        .first()
    )
    return f.Facts(
        policy=policy_at(t),
        next_policy_at=next_policy,
        stays=tuple(
            f.StayFact(x.pk, x.ingestion_id or 0, x.source, x.area_id, city(x.area_id), x.precision, x.arrived_at,
                       x.departed_at, x.refunded, x.phone_hash, areas[x.area_id].full_name)
            for x in stays
        ),
        phones=tuple(f.PhoneFact(x.number_hash, x.bound_at, x.unbound_at) for x in _ordered(mine, "-bound_at")),
        designations=tuple(
            f.DesignationFact(x.pk, x.ingestion_id or 0, x.area_id, city(x.area_id), x.level, x.effective_from,
                              areas[x.area_id].full_name)
            for x in _ordered(rows.get("designation", []), "-effective_from", "-id")
        ),
        local_cases=tuple(
            f.LocalCaseFact(x.pk, x.ingestion_id or 0, x.area_id, x.reported_on)
            for x in _ordered(rows.get("local_case", []), "-reported_on")
        ),
        border_ports=tuple(
            f.BorderPortFact(x.pk, x.ingestion_id or 0, x.area_id, x.effective_from, x.effective_to)
            for x in _ordered(rows.get("border_port", []), "area_id", "-effective_from")
        ),
        labs=tuple(
            f.LabFact(x.pk, x.ingestion_id or 0, x.sampled_at, x.result)
            for x in _ordered(of_person.get("lab", []), "-sampled_at")
        ),
        events=tuple(
            f.EventFact(x.pk, x.ingestion_id or 0, x.kind, x.occurred_at, x.detail)
            for x in _ordered(of_person.get("event", []), "-occurred_at")
        ),
        arrivals=tuple(
            f.ArrivalFact(x.pk, x.ingestion_id or 0, x.entered_at, x.quarantine_completed_at)
            for x in _ordered(of_person.get("arrival", []), "-entered_at")
        ),
        orders=tuple(
            f.OrderFact(x.pk, x.ingestion_id or 0, x.kind, x.starts_at, x.ends_at, x.ended_at)
            for x in _ordered(of_person.get("order", []), "-starts_at")
        ),
        associations=tuple(
            f.AssociationFact(x.pk, x.ingestion_id or 0, x.kind, x.observed_at)
            for x in _ordered(of_person.get("association", []), "-observed_at")
        ),
        declarations=tuple(
            f.DeclarationFact(
                x.pk, x.ingestion_id or 0, x.source, x.submitted_at, x.entered_beijing_at,
                tuple(f.PlaceFact(p.area_id, city(p.area_id), p.arrived_at, p.departed_at)
                      for p in _ordered(x.places.all(), "arrived_at")),
            )
            for x in _ordered(of_person.get("declaration", []), "-submitted_at")
        ),
        releases=tuple(
            f.ReleaseFact(x.pk, x.popup_number, x.evidence_watermark, x.created_at)
            for x in _ordered(of_person.get("release", []), "-created_at")
        ),
    )  # fmt: skip


def assert_engine_equal(world: World, t: dt.datetime) -> dict:
    """Every person's stored answer is the plain engine's, each person's facts read alone."""
    stored = {row.person_id: row for row in PersonStatus.objects.filter(person__in=world.people)}
    for person in world.people:
        expected = evaluate(person_facts(person.pk, t), t)
        # The reader itself: the same answer from every row of the person, built without it.
        assert evaluate(direct_facts(world, person, t), t) == expected
        row = stored[person.pk]
        assert row.dirty_since is None
        assert row.state == expected.state
        assert row.popups == [p.as_json() for p in expected.popups]
        assert row.reasons == [r.as_json() for r in expected.reasons]
        assert row.next_change_at == expected.next_change_at
        assert row.valid_until == expected.valid_until
    return stored


def snapshot(world: World) -> dict:
    return {
        row[0]: row[1:]
        for row in PersonStatus.objects.filter(person__in=world.people).values_list(
            "person_id", "version", "computed_at", *STORED
        )
    }


@st.composite
def scenarios(draw):
    persons = draw(st.integers(1, 4))
    first = draw(facts_of_world(persons))
    second = draw(facts_of_world(persons))
    t1 = BASE + draw(st.integers(5 * 24, 25 * 24)) * HOUR + draw(st.sampled_from([dt.timedelta(0), HOUR / 2]))
    t2 = t1 + draw(st.sampled_from([dt.timedelta(0), HOUR, 26 * HOUR, 9 * 24 * HOUR]))
    return persons, first, second, t1, t2


@WORLD_SETTINGS
@given(scenarios())
def test_the_stored_answer_of_a_chunk_is_the_plain_engines(areas, scenario):
    persons, first, second, t1, t2 = scenario
    with transaction.atomic():
        world = World(persons)
        ids = [p.pk for p in world.people]
        with time_machine.travel(t1, tick=False):
            world.store(first)
            status_refresh_many(person_ids=ids)
            assert_engine_equal(world, t1)
            # Nothing changed and nothing dirty: a second recomputation writes nothing.
            before = snapshot(world)
            status_refresh_many(person_ids=ids)
            assert snapshot(world) == before
        with time_machine.travel(t2, tick=False):
            world.store(second)  # new facts (designations among them), as a fan-out would follow
            PersonStatus.objects.filter(person_id__in=ids).update(dirty_since=t2)
            versions = {pid: values[0] for pid, values in snapshot(world).items()}
            returned = status_refresh_many(person_ids=ids)
            stored = assert_engine_equal(world, t2)
            for pid in ids:  # a dirty row is always written, and the answer is the stored row
                assert stored[pid].version == versions[pid] + 1 and stored[pid].computed_at == t2
                assert [getattr(returned[pid], name) for name in ("version", *STORED)] == [
                    getattr(stored[pid], name) for name in ("version", *STORED)
                ]
        transaction.set_rollback(True)
