"""Bench section `freshness_under_fanout` (issue 17, item 3): how fresh one person's status is
after a one-record feed WHILE a fan-out of up to 100,000 persons runs on real Celery workers.

Two set-ups, same two worker processes (prefork, one child each) on Redis (BENCH_REDIS_DB):
- `separate` (production, config/celery.py route_task): the fan-out's chunks go to `bulk`, the
  feed's one-person recomputation to `urgent`; one worker consumes `urgent` alone, the other
  `bulk,urgent`.
- `shared` (the floor of the comparison: how it was): every task in one queue, both workers on it,
  so a feed's recomputation waits behind the fan-out's chunks sent before it.

The fan-out marks every person except the sampled ones dirty (one UPDATE) and sends their
recomputation in chunks of apps.status.services.CHUNK, as `status_fanout_areas` does. While the
chunks run, a one-record feed (a centralised observation order, through `feed_ingest`, the
service the feed API calls) is ingested every SAMPLE_GAP seconds for a sampled person outside
the fan-out; its freshness is from the feed's commit to its status row recomputed (version up,
not dirty), read from the database every 2 ms (20 ms while 20 or more wait). The feeds are sent on
a fixed beat whether the earlier ones are fresh yet or not, as a city's feeds would be."""

import datetime as dt
import random
import time

from django.conf import settings
from django.db import connection

from apps.core import workers as liveness
from apps.core.clock import now
from apps.devtools.bench import infra
from apps.devtools.bench.fanout import broker_use
from apps.devtools.bench.load import percentile_ms
from apps.evidence.services import feed_ingest
from apps.people.models import Person
from apps.status.models import PersonStatus
from apps.status.services import CHUNK
from apps.status.tasks import recompute_persons

FANOUT_MAX = 100_000
SAMPLE_GAP = 0.5
SAMPLES_MAX = 200


def _workers_start(queues: list[str]) -> list[infra.Process]:
    procs = []
    for i, q in enumerate(queues):
        procs.append(
            infra.celery_worker_start(
                env=infra.server_env(),
                concurrency=1,
                queues=q,
                name=f"bench{i}-{q.replace(',', '-')}@%h",
                label=f"celery {q}",
            )
        )
    client = liveness.redis_client(infra.BROKER_URL)
    deadline = time.monotonic() + 90
    while len(liveness.live_members(client)) < len(queues):  # each worker beats once it is ready
        if time.monotonic() > deadline or not all(p.alive() for p in procs):
            for p in procs:
                p.stop()
            raise infra.BenchSetupError("the Celery workers did not start within 90 s")
        time.sleep(0.2)
    return procs


def _row(pk: int):
    with connection.cursor() as cursor:
        cursor.execute("SELECT version, dirty_since IS NULL FROM status_personstatus WHERE person_id = %s", [pk])
        return cursor.fetchone()


def _rows(pks: list[int]) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT person_id, version, dirty_since IS NULL FROM status_personstatus WHERE person_id = ANY(%s)", [pks]
        )
        return {pk: (version, clean) for pk, version, clean in cursor.fetchall()}


def _round(ctx, mode: str, samples: list, fanout_ids: list[int], run: str) -> dict:
    shared = mode == "shared"
    infra.redis_flush()
    procs = _workers_start(["bulk", "bulk"] if shared else ["urgent", "bulk,urgent"])
    urgent_max = settings.CELERY_URGENT_MAX_PERSONS
    latencies, timeouts = [], 0
    try:
        broker_use(infra.BROKER_URL)
        settings.CELERY_URGENT_MAX_PERSONS = -1 if shared else urgent_max  # shared: everything to bulk
        t = now()
        for start in range(0, len(fanout_ids), 10_000):  # as the fan-out marks (bounded parameters)
            PersonStatus.objects.filter(person_id__in=fanout_ids[start : start + 10_000]).update(dirty_since=t)
        started = time.perf_counter()
        for start in range(0, len(fanout_ids), CHUNK):
            recompute_persons.delay(fanout_ids[start : start + CHUNK])
        client = liveness.redis_client(infra.BROKER_URL)
        pending = {}  # person → (version before, the feed's commit): feeds sent, not yet fresh
        queue = iter(enumerate(samples))
        next_send = time.perf_counter()
        sending = True
        while sending or pending:
            if sending and time.perf_counter() >= next_send:
                item = next(queue, None)
                # Only while the fan-out's chunks are still queued (shared: the queue holds more
                # than the feeds still waiting): "during" the fan-out.
                if (
                    item is None
                    or (item[0] and client.llen("bulk") == 0 and not shared)
                    or (shared and item[0] and client.llen("bulk") <= len(pending))
                ):
                    sending = False
                else:
                    i, (pk, number) = item
                    before = _row(pk)
                    record = {
                        "external_id": f"bench-urgency-{run}-{mode}-{i}",
                        "id_type": "resident_id",
                        "id_number": number,
                        "kind": "centralized",
                        "starts_at": (now() - dt.timedelta(minutes=1)).isoformat(),
                        "reason": "bench",
                    }
                    assert feed_ingest(feed="observation-orders", records=[record]).accepted == 1
                    pending[pk] = (before[0] if before else 0, time.perf_counter())
                    next_send += SAMPLE_GAP
            rows = _rows(list(pending)) if pending else {}
            for pk, (version, accepted) in list(pending.items()):
                row = rows.get(pk)
                if row and row[0] > version and row[1]:
                    latencies.append(time.perf_counter() - accepted)
                    del pending[pk]
                elif time.perf_counter() - accepted > 600:
                    timeouts += 1
                    del pending[pk]
            time.sleep(0.002 if len(pending) < 20 else 0.02)
        # The fan-out's persons are the first ones by id but the sampled (fresh by now).
        left = PersonStatus.objects.filter(person_id__lte=max(fanout_ids), dirty_since__isnull=False)
        while left.exists():
            if time.perf_counter() - started > 1800:
                break
            time.sleep(0.5)
        fanout_seconds = time.perf_counter() - started
    finally:
        settings.CELERY_URGENT_MAX_PERSONS = urgent_max
        broker_use("")
        for p in procs:
            p.stop()
        infra.redis_flush()
    return {
        "samples": len(latencies),
        "timeouts": timeouts,
        "p50_ms": percentile_ms(latencies, 50),
        "p99_ms": percentile_ms(latencies, 99),
        "max_ms": round(max(latencies) * 1000, 1) if latencies else None,
        "fanout_seconds": round(fanout_seconds, 2),
    }


def freshness_under_fanout(ctx) -> dict:
    rng = random.Random(17)
    people = list(ctx.people)
    rng.shuffle(people)
    samples = people[:SAMPLES_MAX]
    sampled = {pk for pk, _n in samples}
    size = min(FANOUT_MAX, ctx.persons) if not ctx.settings.smoke else min(5_000, ctx.persons)
    fanout_ids = [
        pk
        for pk in Person.objects.order_by("pk").values_list("pk", flat=True)[: size + len(sampled)]
        if pk not in sampled
    ][:size]
    run = str(int(time.time()))
    rounds = {}
    for mode in ("separate", "shared"):
        infra.log(f"freshness_under_fanout: {mode} queues, fan-out of {len(fanout_ids):,}")
        rounds[mode] = _round(ctx, mode, samples, fanout_ids, run)
    ours, floor = rounds["separate"], rounds["shared"]
    p99 = ours["p99_ms"]
    return {
        "persons": ctx.persons,
        "fanout_persons": len(fanout_ids),
        "ours": ours,
        "floor": floor,
        "shared_over_separate_p99": round(floor["p99_ms"] / p99, 1) if p99 and floor["p99_ms"] else None,
        "method": (
            f"a fan-out of {len(fanout_ids):,} persons (chunks of {CHUNK}) on two `celery worker` processes "
            "(prefork, 1 child each, Redis); meanwhile a one-record observation-order feed (feed_ingest) every "
            f"{SAMPLE_GAP} s for a person outside it, until the fan-out's queue is empty; freshness = the feed's "
            "commit → its status recomputed. ours: urgent/bulk queues (urgent@ -Q urgent, bulk@ -Q bulk,urgent); "
            "floor: one shared queue, both workers on it"
        ),
        "ratio": round(p99 / 1000, 3) if p99 is not None else None,
        "ratio_of": "p99 with separate queues / the 1 s target",
        "target": "p99 < 1000 ms",
    }
