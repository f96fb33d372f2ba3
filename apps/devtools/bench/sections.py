"""The measured sections of `manage.py bench`. Each returns a dict with its measured numbers, its
`ratio` (what `ratio_of` says) and the `persons` it ran on; none of them asserts anything.

status_read  look-ups per second and CPU of `GET /api/v1/status/`, beside a raw WSGI app and ping (read_path.py)
fanout       a county designation reaching 10% of persons (eager, 1 and 2 workers), beside one SQL UPDATE (fanout.py)
ingest       stays accepted per second by `POST /api/v1/feeds/stays/`, beside COPY of the same rows (ingest.py)
sweep        the periodic sweep with 1% of persons due, beside 100% due
freshness    feed accepted → status recomputed by a real Celery worker on Redis
freshness_under_fanout  the same for one-record feeds during a fan-out, urgent/bulk queues vs one (urgency.py)
admin        the persons changelist of the admin (Django test client, superuser)
reviews      a release answered → its background review written by a real Celery worker (review_latency.py)
audit_seal   staff look-ups per second with the audit's sealer running beside them, beside none
"""

import datetime as dt
import json
import random
import statistics
import sys
import time
import urllib.request
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Max

from apps.accounts.choices import Role
from apps.accounts.models import User
from apps.accounts.services import partner_upsert, staff_upsert
from apps.audit import chain
from apps.audit import services as audit_services  # its audit_seal, not the section's below
from apps.audit.models import AccessLog, AuditCheckpoint, AuditLeaf
from apps.core.clock import now
from apps.core.crypto import decrypt
from apps.devtools.bench import infra
from apps.devtools.bench.credential import credential  # noqa: F401 - a section (credential.py)
from apps.devtools.bench.fanout import fanout  # noqa: F401 - a section (fanout.py)
from apps.devtools.bench.feed import restrictions_feed  # noqa: F401 - a section (feed.py)
from apps.devtools.bench.ingest import ingest  # noqa: F401 - a section (ingest.py)
from apps.devtools.bench.load import percentile_ms, request_bytes, run_load
from apps.devtools.bench.read_path import merged as _merged
from apps.devtools.bench.read_path import status_read  # noqa: F401 - a section, found by its name
from apps.devtools.bench.replica import status_read_replica  # noqa: F401 - a section (replica.py)
from apps.devtools.bench.review_latency import reviews  # noqa: F401 - a section, found by its name
from apps.devtools.bench.urgency import freshness_under_fanout  # noqa: F401 - a section (urgency.py)
from apps.devtools.demo import ADMIN_USERNAME, CDC_CODE
from apps.people.models import Person, Phone
from apps.status.models import PersonStatus
from apps.status.services import status_sweep

BENCH_PARTNER = "bench"


@dataclass
class Settings:
    """How long and how hard each section runs (smoke: seconds, for CI)."""

    smoke: bool = False
    seconds: float = 5.0  # each load run
    warmup: float = 2.0
    rounds: int = 6  # floor and ours alternate this many times; the ratio is the median of the rounds'
    clients: int = 16
    # Four single-threaded workers on two cores: no GIL contention between threads of a worker,
    # and the most pings a second of the configurations tried (2x4, 2x1, 3x2, 4x1).
    server_workers: int = 4
    server_threads: int = 1
    ingest_batches: int = 40
    ingest_clients: int = 2
    freshness_samples: int = 100
    review_samples: int = 100
    sample_persons: int = 2000

    @classmethod
    def for_run(cls, *, smoke: bool) -> "Settings":
        if not smoke:
            return cls()
        return cls(
            smoke=True,
            seconds=1.5,
            warmup=0.5,
            rounds=2,
            clients=8,
            ingest_batches=4,
            freshness_samples=10,
            review_samples=10,
            sample_persons=200,
        )


@dataclass
class Context:
    settings: Settings
    persons: int
    token: str = ""
    port: int = 0
    people: list = field(default_factory=list)  # (pk, resident id number)
    phones: list = field(default_factory=list)  # (person pk, number, number hash)
    server: infra.Process | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"


def persons_count() -> int:
    return Person.objects.count()


def context_prepare(settings: Settings) -> Context:
    """A partner token (status and feeds scopes) and a random sample of persons with their clear
    resident ID numbers and phone numbers, decrypted once here so requests can name them."""
    _partner, token = partner_upsert(name=BENCH_PARTNER, scopes=["feeds", "status"])
    ctx = Context(settings=settings, persons=persons_count(), token=token)
    bounds = Person.objects.filter(id_type="resident_id").order_by("pk").values_list("pk", flat=True)
    low, high = bounds.first(), bounds.last()
    rng = random.Random(11)
    wanted = min(settings.sample_persons, bounds.count())  # never more than there are to pick
    picked = set()
    while len(picked) < wanted:
        candidates = rng.sample(range(low, high + 1), min(high - low + 1, wanted * 2))
        rows = Person.objects.filter(pk__in=candidates, id_type="resident_id").values_list("pk", "id_encrypted")
        for pk, encrypted in rows:
            if len(picked) < wanted and pk not in picked:
                picked.add(pk)
                ctx.people.append((pk, decrypt(encrypted)))
    for person_id, encrypted, digest in Phone.objects.filter(person_id__in=picked).values_list(
        "person_id", "number_encrypted", "number_hash"
    ):
        ctx.phones.append((person_id, decrypt(encrypted), digest))
    return ctx


def server_start(ctx: Context) -> None:
    ctx.port = infra.free_port()
    ctx.server = infra.gunicorn_start(
        port=ctx.port,
        workers=ctx.settings.server_workers,
        threads=ctx.settings.server_threads,
        env=infra.server_env(),
        token=ctx.token,
    )


def server_stop(ctx: Context) -> None:
    if ctx.server:
        ctx.server.stop()
        ctx.server = None


def _ratio(ours, floor) -> float | None:
    return round(ours / floor, 3) if ours and floor else None


# --- keeping the statuses clean between sections ----------------------------------------------------


def statuses_settle() -> int:
    """Recompute every status that is dirty or due (eagerly, in this process), so the next section
    starts from fresh rows. Returns how many were recomputed."""
    total = 0
    while True:
        done = status_sweep(limit=100_000)
        total += done
        if not done:
            return total


# --- sweep ----------------------------------------------------------------------------------------


def sweep(ctx: Context) -> dict:
    statuses_settle()
    total = PersonStatus.objects.count()
    results = {}
    for label, share in (("one_percent", 0.01), ("all", 1.0)):
        due = max(1, round(total * share))
        with connection.cursor() as cursor:
            if share >= 1:
                cursor.execute("UPDATE status_personstatus SET next_change_at = now() - interval '1 minute'")
            else:
                cursor.execute(
                    "UPDATE status_personstatus SET next_change_at = now() - interval '1 minute' WHERE person_id IN "
                    "(SELECT person_id FROM status_personstatus ORDER BY random() LIMIT %s)",
                    [due],
                )
        started = time.perf_counter()
        swept = status_sweep(limit=max(100_000, total))
        seconds = time.perf_counter() - started
        results[label] = {"due": due, "recomputed": swept, "seconds": round(seconds, 3)}
    return {
        "persons": ctx.persons,
        "method": "status_sweep with the recomputation it schedules run eagerly (chunks of 500)",
        "one_percent": results["one_percent"],
        "all": results["all"],
        "ratio": _ratio(results["one_percent"]["seconds"], results["all"]["seconds"]),
        "ratio_of": "seconds at 1% due / seconds at 100% due",
        "target": "<= 0.05",
    }


# --- freshness ------------------------------------------------------------------------------------


def _post(ctx: Context, path: str, payload: dict) -> dict:
    request = urllib.request.Request(
        f"http://{ctx.host}{path}",
        data=json.dumps(payload).encode(),
        headers={"Authorization": f"Token {ctx.token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _status_row(person_id: int):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT version, dirty_since IS NULL, state FROM status_personstatus WHERE person_id = %s", [person_id]
        )
        return cursor.fetchone()


def freshness(ctx: Context) -> dict:
    s = ctx.settings
    statuses_settle()
    infra.redis_flush()
    worker = infra.celery_worker_start(env=infra.server_env(), concurrency=2)
    latencies, posts, timeouts = [], [], 0
    try:
        people = list(ctx.people)
        random.Random(9).shuffle(people)
        run = int(time.time())
        for i, (pk, number) in enumerate(people[: s.freshness_samples + 2]):
            before = _status_row(pk)
            started = time.perf_counter()
            t = now()
            record = {
                "external_id": f"bench-fresh-{run}-{i}",
                "id_type": "resident_id",
                "id_number": number,
                "kind": "centralized",
                "starts_at": (t - dt.timedelta(minutes=1)).isoformat(),
                "reason": "bench",
            }
            answer = _post(ctx, "/api/v1/feeds/observation-orders/", {"records": [record]})
            accepted = time.perf_counter()
            assert answer["accepted"] == 1, answer
            deadline = accepted + (60 if i < 2 else 10)  # the first waits for the worker to start
            while time.perf_counter() < deadline:
                row = _status_row(pk)
                if row and row[0] > (before[0] if before else 0) and row[1]:
                    break
                time.sleep(0.002)
            else:
                timeouts += 1
                continue
            if i >= 2:  # two warm-ups
                latencies.append(time.perf_counter() - accepted)
                posts.append(accepted - started)
    finally:
        worker.stop()
        infra.redis_flush()
    p99 = percentile_ms(latencies, 99)
    return {
        "persons": ctx.persons,
        "samples": len(latencies),
        "timeouts": timeouts,
        "method": (
            "POST /api/v1/feeds/observation-orders/ (one centralised order) → the stored status row "
            "recomputed (version up, not dirty) by `celery -A config worker` (prefork, 2) on Redis db 14"
        ),
        "p50_ms": percentile_ms(latencies, 50),
        "p99_ms": p99,
        "max_ms": round(max(latencies) * 1000, 2) if latencies else None,
        "post_p50_ms": percentile_ms(posts, 50),
        "ratio": round(p99 / 1000, 3) if p99 is not None else None,
        "ratio_of": "p99 / the 1 s target",
        "target": "p99 < 1000 ms",
    }


# --- admin ----------------------------------------------------------------------------------------


def admin_changelist(ctx: Context) -> dict:
    from django.contrib import admin
    from django.test import Client

    client = Client()
    client.force_login(User.objects.get(username=ADMIN_USERNAME))
    _pk, number = ctx.people[0]
    per_page = admin.site._registry[Person].list_per_page
    page = max(1, min(100, ctx.persons // per_page - 1))  # deep in the list (Django pages count from 1)
    pages = {
        "list": "/admin/people/person/",
        "filtered_red": "/admin/people/person/?status__state__exact=red",
        "search_id_number": f"/admin/people/person/?q={number}",
        f"page_{page}": f"/admin/people/person/?p={page}",
    }
    out = {"persons": ctx.persons, "method": "Django test client, superuser, median of 5 GETs after one warm-up"}
    for name, url in pages.items():
        client.get(url)
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            response = client.get(url)
            timings.append(time.perf_counter() - started)
            assert response.status_code == 200, (url, response.status_code)
        out[name] = {"url": url.replace(number, "<id number>"), "median_ms": percentile_ms(timings, 50)}
    worst = max(v["median_ms"] for v in out.values() if isinstance(v, dict))
    out["ratio"] = round(worst / 1000, 3)
    out["ratio_of"] = "slowest page / the 1 s target"
    out["target"] = "< 1000 ms"
    return out


# --- audit_seal -------------------------------------------------------------------------------------

BENCH_STAFF = "bench_cdc"
SEAL_EVERY_SECONDS = 0.25  # the concurrent sealer's pace: far busier than the beat's minute


def _audit_catch_up() -> int:
    """Seal whatever the earlier sections and runs left unsealed (in this process), so the
    concurrent sealer only has what the measured look-ups write."""
    total = 0
    while True:
        result = audit_services.audit_seal(wait=5)
        if result is None:
            return total
        total += result.count
        if result.count == 0:
            return total


def _unsealed_lookups() -> tuple[int, float]:
    """How many access-log rows are not sealed yet, and how old the oldest of them is (seconds)."""
    head = AuditLeaf.objects.filter(source="access").aggregate(m=Max("row_id"))["m"] or 0
    rows = AccessLog.objects.filter(pk__gt=head)
    oldest = rows.order_by("pk").values_list("at", flat=True).first()
    return rows.count(), round((now() - oldest).total_seconds(), 2) if oldest else 0.0


def _sealer_start(timeout: float = 60.0) -> infra.Process:
    """`manage.py audit_seal --every` in a process of its own, once it has sealed a first time."""
    before = AuditCheckpoint.objects.count()
    args = [sys.executable, str(infra.ROOT / "manage.py"), "audit_seal", "--every", str(SEAL_EVERY_SECONDS)]
    sealer = infra.Process(args, infra.server_env(), "sealer", quiet=True)
    deadline = time.monotonic() + timeout
    while AuditCheckpoint.objects.count() <= before:
        if not sealer.alive() or time.monotonic() > deadline:
            sealer.stop()
            raise infra.BenchSetupError("the concurrent sealer (manage.py audit_seal --every) did not seal")
        time.sleep(0.1)
    return sealer


def audit_seal(ctx: Context) -> dict:
    """Staff look-ups per second (`GET /api/v1/persons/{ref}/status/` by a CDC officer, each
    writing an access-log row) with the audit's sealer running beside them (`manage.py audit_seal
    --every 0.25`, its own process) and without, the two alternating round by round; then the
    whole audit verified (`audit_verify`'s walk)."""
    s = ctx.settings
    _user, token = staff_upsert(username=BENCH_STAFF, role=Role.CDC_OFFICER, org_code=CDC_CODE)
    refs = dict(Person.objects.filter(pk__in=[pk for pk, _n in ctx.people]).values_list("pk", "ref"))
    lookups = [
        request_bytes("GET", f"/api/v1/persons/{ref}/status/?why=bench", host=ctx.host, token=token)
        for ref in refs.values()
    ]
    random.Random(13).shuffle(lookups)
    position = [0]

    def next_lookup() -> bytes:
        position[0] = (position[0] + 1) % len(lookups)
        return lookups[position[0]]

    def looked_up(status: int, body: bytes) -> bool:
        return status == 200 and b'"state"' in body

    def load(seconds):
        return run_load(
            host="127.0.0.1", port=ctx.port, requests=next_lookup, clients=s.clients, seconds=seconds, check=looked_up
        )

    load(s.warmup)
    caught_up = _audit_catch_up()
    runs = {"ours": [], "floor": []}
    sealed_during = 0
    behind = []  # (rows, seconds) not yet sealed when each run with the sealer ended
    for round_ in range(s.rounds):
        # Without first in even rounds, with first in odd ones: a drift of the shared machine's
        # load within a round favours neither.
        if round_ % 2 == 0:
            runs["floor"].append(load(s.seconds))
        sealer = _sealer_start()
        try:
            leaves = AuditLeaf.objects.count()
            runs["ours"].append(load(s.seconds))
            sealed_during += AuditLeaf.objects.count() - leaves
            behind.append(_unsealed_lookups())
        finally:
            sealer.stop()
        if round_ % 2 == 1:
            runs["floor"].append(load(s.seconds))
    caught_up += _audit_catch_up()
    started = time.perf_counter()
    report = chain.verify()
    verify_seconds = time.perf_counter() - started

    ratios = [
        o.requests / o.seconds / (f.requests / f.seconds)
        for o, f in zip(runs["ours"], runs["floor"], strict=True)
        if o.seconds and f.seconds and f.requests
    ]
    return {
        "persons": ctx.persons,
        "clients": s.clients,
        "rounds": s.rounds,
        "seconds_per_run": s.seconds,
        "ours": {
            "endpoint": f"GET /api/v1/persons/{{ref}}/status/ (CDC officer) with the sealer every {SEAL_EVERY_SECONDS} s",
            **_merged(runs["ours"]),
            "rows_sealed_meanwhile": sealed_during,
            "unsealed_at_the_end_max_rows": max((rows for rows, _s in behind), default=None),
            "unsealed_at_the_end_max_seconds": max((secs for _r, secs in behind), default=None),
        },
        "floor": {"endpoint": "the same look-ups, no sealer running", **_merged(runs["floor"])},
        "verify": {
            "ok": report.ok,
            "leaves": report.leaves,
            "seconds": round(verify_seconds, 2),
            "leaves_per_second": round(report.leaves / verify_seconds, 1) if verify_seconds else None,
        },
        "sealed_in_process": caught_up,
        "round_ratios": [round(r, 3) for r in ratios],
        "ratio": round(statistics.median(ratios), 3) if ratios else None,
        "ratio_of": "staff look-ups per second with the sealer / without it (median of the rounds)",
        "target": ">= 0.9",
    }
