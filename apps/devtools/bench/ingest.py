"""The `ingest` section of `manage.py bench`: stays accepted per second by `POST /api/v1/feeds/stays/`
under gunicorn (batches of 1,000, half tickets naming a person by ID, half telecom itineraries
naming a phone), beside the floor: `COPY` of the same rows straight into the stays table, persons
and phones already resolved, no history, no batch kept, nothing marked.

The two alternate in rounds (which goes first alternates too), so the load of a shared machine
falls on both alike; the ratio is the median of the rounds' ratios, each round's numbers kept."""

import datetime as dt
import json
import random
import statistics
import time

from django.db import connection, transaction

from apps.core.clock import now
from apps.devtools.bench import infra
from apps.devtools.bench.load import percentile_ms, request_bytes, run_load
from apps.devtools.demo import TELECOM_CITIES, TICKET_COUNTIES
from apps.evidence.models import Stay
from apps.evidence.services import content_hash

BATCH = 1000
TARGET = ">= 0.3"
COPY_COLUMNS = (
    "source",
    "external_id",
    "person_id",
    "phone_hash",
    "area_id",
    "precision",
    "arrived_at",
    "departed_at",
    "refunded",
    "ingested_at",
    "content_hash",
    "origin",
)


def stay_records(ctx, count: int, tag: str, rng: random.Random) -> list[dict]:
    """Half rail and air tickets naming a person (county), half telecom itineraries naming a phone
    (city), in the last ten days."""
    t = now()
    counties, cities = list(TICKET_COUNTIES), list(TELECOM_CITIES)
    records = []
    for i in range(count):
        arrived = t - dt.timedelta(days=rng.uniform(1, 10))
        departed = arrived + dt.timedelta(hours=rng.uniform(5, 60))
        departed = departed if departed < t else None
        if i % 2 == 0 or not ctx.phones:
            _pk, number = rng.choice(ctx.people)
            record = {
                "source": rng.choice(("rail", "air")),
                "external_id": f"{tag}-{i}",
                "id_type": "resident_id",
                "id_number": number,
                "area_code": rng.choice(counties),
                "precision": "county",
            }
        else:
            _pk, phone, _digest = rng.choice(ctx.phones)
            record = {
                "source": "telecom",
                "external_id": f"{tag}-{i}",
                "phone": phone,
                "area_code": rng.choice(cities),
                "precision": "city",
            }
        record["arrived_at"] = arrived.isoformat()
        record["departed_at"] = departed.isoformat() if departed else None
        record["refunded"] = False
        records.append(record)
    return records


def _copy_rows(ctx, records: list[dict], tag: str) -> list[tuple]:
    """The same stays as rows of the stays table, persons and phones already resolved."""
    person_of = {number: pk for pk, number in ctx.people}
    hash_of = {phone: digest for _pk, phone, digest in ctx.phones}
    t = now()
    rows = []
    for i, r in enumerate(records):
        rows.append(
            (
                r["source"],
                f"{tag}-{i}",
                person_of.get(r.get("id_number")),
                hash_of.get(r.get("phone"), ""),
                r["area_code"],
                r["precision"],
                dt.datetime.fromisoformat(r["arrived_at"]),
                dt.datetime.fromisoformat(r["departed_at"]) if r["departed_at"] else None,
                False,
                t,
                content_hash(r),
                "feed",
            )
        )
    return rows


def _copy(rows: list[tuple], tag: str) -> float:
    """The floor: the rows COPYed in one transaction. Returns its seconds; the rows are removed."""
    columns = ", ".join(COPY_COLUMNS)
    started = time.perf_counter()
    with transaction.atomic():
        with connection.cursor() as cursor:
            with cursor.cursor.copy(f"COPY evidence_stay ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
    seconds = time.perf_counter() - started
    Stay.objects.filter(external_id__startswith=tag).delete()
    return seconds


def ingest(ctx) -> dict:
    s = ctx.settings
    rounds = max(1, s.rounds)
    per_round = max(1, s.ingest_batches // rounds)
    run = int(time.time())
    rng = random.Random(run)
    accepted = [0]

    def all_accepted(status: int, body: bytes) -> bool:
        if status != 200:
            return False
        answer = json.loads(body)
        accepted[0] += answer["accepted"]
        return answer["accepted"] == BATCH and not answer["rejected"]

    def send(batches: list[list[dict]]):
        queue = [
            request_bytes(
                "POST", "/api/v1/feeds/stays/", host=ctx.host, token=ctx.token, body=json.dumps({"records": b}).encode()
            )
            for b in batches
        ]
        return run_load(
            host="127.0.0.1",
            port=ctx.port,
            requests=lambda: queue.pop() if queue else None,
            clients=s.ingest_clients,
            seconds=3600,
            check=all_accepted,
        )

    infra.redis_flush()
    send([stay_records(ctx, BATCH, f"bench-ingest-{run}-warm-{i}", rng) for i in range(s.ingest_clients)])
    results = []
    for n in range(rounds):
        batches = [stay_records(ctx, BATCH, f"bench-ingest-{run}-{n}-{b}", rng) for b in range(per_round)]
        copy_tag = f"bench-copy-{run}-{n}-"
        rows = [row for i, b in enumerate(batches) for row in _copy_rows(ctx, b, f"{copy_tag}{i}")]

        def ours(batches=batches):
            accepted[0] = 0
            load = send(batches)
            return load, accepted[0]

        if n % 2 == 0:
            (load, count), copy_seconds = ours(), _copy(rows, copy_tag)
        else:
            copy_seconds = _copy(rows, copy_tag)
            load, count = ours()
        infra.redis_flush()  # the recomputations they queued: nobody consumes them here
        ours_rate = count / load.seconds if load.seconds else 0.0
        floor_rate = len(rows) / copy_seconds
        results.append(
            {
                "accepted": count,
                "errors": load.errors,
                "seconds": round(load.seconds, 2),
                "stays_per_second": round(ours_rate, 1),
                "batch_p50_ms": percentile_ms(load.latencies, 50),
                "batch_p99_ms": percentile_ms(load.latencies, 99),
                "copy_seconds": round(copy_seconds, 3),
                "copy_stays_per_second": round(floor_rate, 1),
                "ratio": round(ours_rate / floor_rate, 3) if ours_rate and floor_rate else None,
                "first": "ours" if n % 2 == 0 else "copy",
            }
        )
    ratios = [r["ratio"] for r in results if r["ratio"] is not None]
    latencies_p50 = [r["batch_p50_ms"] for r in results if r["batch_p50_ms"] is not None]
    return {
        "persons": ctx.persons,
        "rounds": rounds,
        "batches": per_round * rounds,
        "batch_size": BATCH,
        "clients": s.ingest_clients,
        "ours": {
            "endpoint": "POST /api/v1/feeds/stays/ (half tickets by ID, half telecom by phone)",
            "accepted": sum(r["accepted"] for r in results),
            "errors": sum(r["errors"] for r in results),
            "stays_per_second": statistics.median(r["stays_per_second"] for r in results),
            "batch_p50_ms": statistics.median(latencies_p50) if latencies_p50 else None,
        },
        "floor": {
            "method": "COPY of the same rows into evidence_stay (ids resolved), one transaction a round",
            "rows": per_round * rounds * BATCH,
            "stays_per_second": statistics.median(r["copy_stays_per_second"] for r in results),
        },
        "round_results": results,
        "round_ratios": ratios,
        "ratio": round(statistics.median(ratios), 3) if ratios else None,
        "ratio_of": "stays per second over HTTP / COPY stays per second (median of the rounds, alternating)",
        "target": TARGET,
    }
