"""A city-scale population for benchmarks and load tests (`manage.py generate_population`).

The persons, phones and 30 days of evidence of the demo (`apps.devtools.demo.DemoWorld`: rail and air
tickets at county precision, carriers' telecom itineraries at city precision, lab results, health
events, inbound arrivals, observation orders), in the numbers of a city: 100,000 by default,
1,000,000 in minutes. Every row carries the derived fields the services store (hashes,
ciphertexts, masked forms through `apps.devtools.seeding`, content hashes through the feeds' own
`content_hash`) and a history row, as `bulk_create_with_history` would write it; then every new
person's status is computed by the status engine itself (`status_refresh_many`), so status rows,
popup episodes and reasons are exactly what the services give.

What makes it fast:
- no model instances: the demo world's rows are built as plain dicts (the hooks of `DemoWorld`)
  and written with PostgreSQL `COPY` (psycopg 3 `cursor.copy`), ids reserved from the sequences;
  elsewhere (SQLite, in the tests) with `executemany`;
- chunks of persons in a pool of processes (`workers`, default the number of CPUs, at most 2 —
  a Fernet encryption per person and phone, a content hash per record and the status engine are
  all CPU-bound Python). Each worker owns a slice of the ID and phone number space (a CRC of the
  number modulo the workers), so two workers never generate the same person; numbers already in
  the database (an earlier run) are left out and made up for by more persons.

Re-running appends: every run adds `persons` new persons with IDs distinct from every person in
the database, and evidence with external ids of its own (`pop<ingestion>-…`) under one
`Ingestion(feed="population")`. A run is deterministic for a seed when it runs in one worker on
a fresh database (the random streams are keyed by the seed, the run's ingestion and the chunk).
"""

import datetime as dt
import logging
import multiprocessing
import os
import random
import time
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection, connections, models, transaction

from apps.accounts.models import Organisation
from apps.areas.models import Area
from apps.core.bulk import rows_insert_with_history, tables_analyze
from apps.core.clock import now
from apps.devtools.demo import (
    OPTIONAL_AREAS,
    REQUIRED_AREAS,
    TELECOM_CITIES,
    TICKET_COUNTIES,
    AreasNotLoaded,
    DemoWorld,
    Generated,
    demo_seed,
)
from apps.evidence.models import HealthEvent, InboundArrival, Ingestion, LabResult, ObservationOrder, Stay
from apps.evidence.services import content_hash
from apps.people.models import Person, Phone, new_ref
from apps.status.models import PersonStatus, Popup
from apps.status.services import CHUNK, status_refresh_many

logger = logging.getLogger(__name__)

POPULATION_FEED = "population"
HISTORY_REASON = "generate_population"
DEFAULT_PERSONS = 100_000
DEFAULT_CHUNK = 5_000
EVIDENCE = (
    ("stays", Stay),
    ("lab_results", LabResult),
    ("health_events", HealthEvent),
    ("inbound_arrivals", InboundArrival),
    ("observation_orders", ObservationOrder),
)


def _slot(number: str, workers: int) -> int:
    """Which worker owns an ID or phone number."""
    return zlib.crc32(number.encode()) % workers


@dataclass
class PopulationWorld(DemoWorld):
    """The demo's world, building rows as dicts for `COPY` instead of model instances, with
    external ids unique to the run and chunk, in the slice of numbers its worker owns."""

    run_tag: str = "pop"
    chunk_no: int = 0
    worker: int = 0
    workers: int = 1

    def _external_id(self, kind: str) -> str:
        self.serial += 1
        return f"{self.run_tag}-{self.chunk_no}-{kind}-{self.serial}"

    def _identity_free(self, id_type: str, number: str) -> bool:
        return _slot(number, self.workers) == self.worker and super()._identity_free(id_type, number)

    def _phone_free(self, number: str) -> bool:
        return _slot(number, self.workers) == self.worker and super()._phone_free(number)

    def _new_person(self, fields: dict, *, birth_date: dt.date, community) -> dict:
        return {**fields, "ref": new_ref(), "birth_date": birth_date, "community_id": community.pk}

    def _new_phone(self, fields: dict, **values) -> dict:
        return {**fields, **values}

    def _record(self, model, who, data: dict, *, source: str | None = None, **fields):
        if who is not None:
            data = {**data, **who.ident()}
        row = {
            "source": source or data["source"],
            "external_id": data["external_id"],
            "ingestion_id": self.ingestion.pk,
            "ingested_at": self.t,
            "content_hash": content_hash(data),
        }
        for name, value in fields.items():
            if isinstance(value, models.Model):
                row[f"{name}_id"] = value.pk
            else:
                row[name] = value
        return (who.index if who else None), row


# --- writing rows ---------------------------------------------------------------------------------


def _chunk_write(rows: Generated, t: dt.datetime) -> dict:
    """Write one generated chunk in one transaction. Persons whose ID is already in the database
    are left out with their evidence. Returns the counts and the new persons' ids."""
    hashes = [p["id_hash"] for p, _number in rows.persons]
    existing = set()
    for start in range(0, len(hashes), 5000):
        chunk = hashes[start : start + 5000]
        existing.update(Person.objects.filter(id_hash__in=chunk).values_list("id_hash", flat=True))
    persons = {i: p for i, (p, _number) in enumerate(rows.persons) if p["id_hash"] not in existing}
    for person in persons.values():
        person["created_at"] = person["updated_at"] = t
    with transaction.atomic():
        rows_insert_with_history(Person, list(persons.values()), t, change_reason=HISTORY_REASON)
        phones = []
        for index, phone in rows.phones:
            if index in persons:
                phone["person_id"] = persons[index]["id"]
                phone["created_at"] = phone["updated_at"] = t
                phones.append(phone)
        rows_insert_with_history(Phone, phones, t, change_reason=HISTORY_REASON)
        counts = Counter(persons=len(persons), phones=len(phones))
        for name, model in EVIDENCE:
            objs = []
            for index, obj in getattr(rows, name):
                if index not in persons:
                    continue
                if not obj.get("phone_hash"):
                    obj["person_id"] = persons[index]["id"]  # a telecom stay belongs to its phone number
                objs.append(obj)
            rows_insert_with_history(model, objs, t, change_reason=HISTORY_REASON)
            counts[name] = len(objs)
            if model is Stay:
                counts["telecom_stays"] = sum(1 for o in objs if o["precision"] == "city")
    return {"counts": counts, "person_ids": [p["id"] for p in persons.values()], "skipped": len(existing)}


# --- workers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    """What every worker needs to build its chunks."""

    seed: int
    t: dt.datetime
    ingestion_id: int
    communities: tuple
    cdc: object
    counties: dict
    telecom_cities: dict
    city_of: dict
    workers: int


_plan: _Plan | None = None
_worker = 0
_used_ids: set = set()
_used_phones: set = set()


def _worker_init(plan: _Plan, counter, forked: bool = True) -> None:
    global _plan, _worker
    with counter.get_lock():
        _worker = counter.value
        counter.value += 1
    _plan = plan
    if forked:
        connections.close_all()  # never share the parent's connection


def _chunk_run(task: tuple[int, int]) -> dict:
    """Build, write and compute the statuses of one chunk of persons (in a worker)."""
    chunk_no, size = task
    plan = _plan
    started = time.perf_counter()
    world = PopulationWorld(
        rng=random.Random(f"{plan.seed}:{plan.ingestion_id}:{chunk_no}"),  # a new stream every run
        t=plan.t,
        ingestion=Ingestion(pk=plan.ingestion_id),
        communities=list(plan.communities),
        cdc=plan.cdc,
        counties=plan.counties,
        telecom_cities=plan.telecom_cities,
        city_of=plan.city_of,
        used_ids=_used_ids,
        used_phones=_used_phones,
        run_tag=f"pop{plan.ingestion_id}",
        chunk_no=chunk_no,
        worker=_worker,
        workers=plan.workers,
    )
    rows = world.generate(size)
    generated = time.perf_counter()
    written = _chunk_write(rows, plan.t)
    if (chunk_no + 1) & chunk_no == 0:  # chunks 0, 1, 3, 7, 15…: whenever the tables have about doubled
        tables_analyze(Person, Phone, *(model for _name, model in EVIDENCE))
    stored = time.perf_counter()
    ids = written["person_ids"]
    for start in range(0, len(ids), CHUNK):
        status_refresh_many(person_ids=ids[start : start + CHUNK])
    done = time.perf_counter()
    return {
        "counts": written["counts"],
        "skipped": written["skipped"],
        "seconds": {"generate": generated - started, "write": stored - generated, "statuses": done - stored},
    }


# --- the entry point ----------------------------------------------------------------------------


@dataclass
class PopulationReport:
    persons: int = 0
    counts: Counter = field(default_factory=Counter)
    skipped: int = 0
    seconds: float = 0.0
    worker_seconds: Counter = field(default_factory=Counter)
    workers: int = 1
    ingestion_id: int | None = None

    def as_json(self) -> dict:
        return {
            "persons": self.persons,
            "rows": dict(self.counts),
            "skipped_existing_ids": self.skipped,
            "seconds": round(self.seconds, 2),
            "persons_per_second": round(self.persons / self.seconds, 1) if self.seconds else None,
            "worker_seconds": {k: round(v, 2) for k, v in self.worker_seconds.items()},
            "workers": self.workers,
            "ingestion": self.ingestion_id,
        }


def default_workers() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def population_generate(
    *,
    persons: int = DEFAULT_PERSONS,
    seed: int = 1,
    workers: int | None = None,
    chunk: int = DEFAULT_CHUNK,
    progress: Callable[[int, int], None] | None = None,
) -> PopulationReport:
    """Add `persons` new persons with phones, evidence and computed statuses. The demo's
    organisations, logins and the seeds' policy (a high-risk county, a border-port county) are
    ensured first (`demo_seed` with no persons). Returns what was written and how long it took."""
    present = set(Area.objects.filter(code__in=REQUIRED_AREAS | OPTIONAL_AREAS).values_list("code", flat=True))
    if REQUIRED_AREAS - present:
        raise AreasNotLoaded("The areas are not loaded: run `manage.py load_areas` first.")
    demo_seed(persons=0)
    workers = workers or default_workers()
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        workers = 1  # one writer at a time on SQLite; other processes could not see an open transaction
    started = time.perf_counter()
    t = now()
    ingestion = Ingestion.objects.create(
        feed=POPULATION_FEED, received_at=t, payload={"seed": seed, "persons": persons}, record_count=0
    )
    cities = dict(Area.objects.filter(code__in=list(TICKET_COUNTIES)).values_list("code", "city_id"))
    plan = _Plan(
        seed=seed,
        t=t,
        ingestion_id=ingestion.pk,
        communities=tuple(Organisation.objects.filter(kind="community", code__startswith="C-").order_by("code")),
        cdc=Organisation.objects.get(code="CDC"),
        counties={c: w for c, w in TICKET_COUNTIES.items() if c in present},
        telecom_cities={c: w for c, w in TELECOM_CITIES.items() if c in present},
        city_of={c: city for c, city in cities.items() if city in present},
        workers=workers,
    )
    report = PopulationReport(workers=workers, ingestion_id=ingestion.pk)
    chunk = max(1, chunk)
    next_chunk = 0

    def tasks(count: int) -> list[tuple[int, int]]:
        nonlocal next_chunk
        out = []
        for start in range(0, count, chunk):
            out.append((next_chunk, min(chunk, count - start)))
            next_chunk += 1
        return out

    def collect(result: dict) -> None:
        report.persons += result["counts"]["persons"]
        report.counts.update(result["counts"])
        report.skipped += result["skipped"]
        report.worker_seconds.update(result["seconds"])
        if progress:
            progress(report.persons, persons)

    if workers == 1:
        _worker_init(plan, multiprocessing.Value("i", 0), forked=False)
        while report.persons < persons:
            for task in tasks(persons - report.persons):
                collect(_chunk_run(task))
    else:
        connections.close_all()
        context = multiprocessing.get_context("fork")
        with context.Pool(workers, initializer=_worker_init, initargs=(plan, context.Value("i", 0))) as pool:
            while report.persons < persons:
                for result in pool.imap_unordered(_chunk_run, tasks(persons - report.persons)):
                    collect(result)
    tables_analyze(Person, Phone, *(model for _name, model in EVIDENCE), PersonStatus, Popup)
    records = sum(report.counts[name] for name, _model in EVIDENCE)
    Ingestion.objects.filter(pk=ingestion.pk).update(record_count=records, accepted=records)
    report.seconds = time.perf_counter() - started
    return report
