"""The `status_read` section of `manage.py bench`: the status look-up beside the machine's floor.

Three servers' worth of requests, in the same run and in alternating rounds, each under the same
gunicorn settings and the same closed-loop load:

- `raw`: `apps.devtools.bench.raw_app`, a plain WSGI app on psycopg doing only what a look-up must
  do (the token's digest looked up, the ID number HMAC-ed as `apps.people` does, one indexed
  SELECT, JSON). The floor: `ratio` (the reported one, `ratio_raw`) is ours over it.
- `ours`: `GET /api/v1/status/?id_type=resident_id&id_number=…` of the portal.
- `ping`: `GET /api/v1/ping/` of the portal (token authentication and a tiny answer);
  `ratio_ping` is ours over it, as the section reported before the raw floor existed.

Besides the rates, the server's CPU per request: the user+system time of the gunicorn workers and
of the PostgreSQL backends of the benchmark database, read from /proc before and after each round,
over the requests answered in it. From it, how many cores 23,000 look-ups a second (Guangdong's
peak, issue 16) would take at that cost: CPU is what a look-up spends whatever the machine.
"""

import os
import random
import statistics
from pathlib import Path

from django.db import connection

from apps.devtools.bench import infra
from apps.devtools.bench.load import percentile_ms, request_bytes, run_load

PEAK_LOOKUPS_PER_SECOND = 23_000
TARGET_RATIO_RAW = 0.5
_TICKS = os.sysconf("SC_CLK_TCK")


def merged(results) -> dict:
    """Rounds of one load run as one: requests, errors, rate and latency percentiles."""
    requests = sum(r.requests for r in results)
    seconds = sum(r.seconds for r in results)
    latencies = [x for r in results for x in r.latencies]
    return {
        "requests": requests,
        "errors": sum(r.errors for r in results),
        "per_second": round(requests / seconds, 1) if seconds else 0.0,
        "p50_ms": percentile_ms(latencies, 50),
        "p99_ms": percentile_ms(latencies, 99),
    }


# --- server CPU --------------------------------------------------------------------------------------


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of one process (0 when it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime: fields 14 and 15 of stat(5)


def _children(parent: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == parent:
            pids.append(int(entry.name))
    return pids


def _backends() -> list[int]:
    """The PostgreSQL backends connected to the benchmark database, but this process's own."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return [pid for (pid,) in cursor.fetchall()]


def server_cpu(server: infra.Process) -> tuple[float, float]:
    """(application, database) CPU seconds so far: the server's workers and every backend of the
    database (the idle servers' backends spend next to nothing)."""
    app = sum(_cpu_seconds(pid) for pid in [server.proc.pid, *_children(server.proc.pid)])
    return app, sum(_cpu_seconds(pid) for pid in _backends())


# --- the section ---------------------------------------------------------------------------------------


def _raw_start(ctx) -> tuple[infra.Process, int]:
    port = infra.free_port()
    server = infra.gunicorn_start(
        port=port,
        workers=ctx.settings.server_workers,
        threads=ctx.settings.server_threads,
        env=infra.server_env(),
        token=ctx.token,
        app="apps.devtools.bench.raw_app:application",
    )
    return server, port


def _cpu_summary(rounds: list[dict]) -> dict:
    requests = sum(r["requests"] for r in rounds)
    app = sum(r["app_cpu"] for r in rounds)
    db = sum(r["db_cpu"] for r in rounds)
    if not requests:
        return {"cpu_ms_per_request": None}
    per_request = (app + db) / requests * 1000
    return {
        "cpu_ms_per_request": round(per_request, 3),
        "app_cpu_ms_per_request": round(app / requests * 1000, 3),
        "db_cpu_ms_per_request": round(db / requests * 1000, 3),
        "cores_for_23000_per_second": round(PEAK_LOOKUPS_PER_SECOND * per_request / 1000, 1),
    }


def status_read(ctx) -> dict:
    s = ctx.settings
    numbers = [n for _pk, n in ctx.people]
    random.Random(3).shuffle(numbers)
    raw_server, raw_port = _raw_start(ctx)
    try:
        ports = {"raw": raw_port, "ours": ctx.port, "ping": ctx.port}
        servers = {"raw": raw_server, "ours": ctx.server, "ping": ctx.server}

        def requests_of(kind: str) -> list[bytes]:
            host = f"127.0.0.1:{ports[kind]}"
            if kind == "ping":
                return [request_bytes("GET", "/api/v1/ping/", host=host, token=ctx.token)]
            path = "/api/v1/status/?id_type=resident_id&id_number="
            return [request_bytes("GET", path + n, host=host, token=ctx.token) for n in numbers]

        requests = {kind: requests_of(kind) for kind in ports}

        def looked_up(status: int, body: bytes) -> bool:
            return status == 200 and b'"state"' in body

        def load(kind: str, seconds: float):
            items, position = requests[kind], [0]

            def next_request() -> bytes:
                position[0] = (position[0] + 1) % len(items)
                return items[position[0]]

            check = (lambda status, body: status == 200) if kind == "ping" else looked_up
            return run_load(
                host="127.0.0.1",
                port=ports[kind],
                requests=next_request,
                clients=s.clients,
                seconds=seconds,
                check=check,
            )

        for kind in ports:
            load(kind, s.warmup)
        runs = {kind: [] for kind in ports}
        cpu = {kind: [] for kind in ports}
        for _round in range(s.rounds):
            for kind in ("raw", "ours", "ping"):
                app_before, db_before = server_cpu(servers[kind])
                result = load(kind, s.seconds)
                app_after, db_after = server_cpu(servers[kind])
                runs[kind].append(result)
                answered = result.requests + result.errors
                cpu[kind].append(
                    {"requests": answered, "app_cpu": app_after - app_before, "db_cpu": db_after - db_before}
                )
    finally:
        raw_server.stop()

    def rate(result) -> float:
        return result.requests / result.seconds if result.seconds else 0.0

    # The machine is shared: load from elsewhere comes and goes within a run. Each round measures
    # the three back to back, so the median of the rounds' ratios is the fair one.
    def round_ratios(floor: str) -> list[float]:
        return [rate(o) / rate(f) for o, f in zip(runs["ours"], runs[floor], strict=True) if rate(f)]

    raw_ratios, ping_ratios = round_ratios("raw"), round_ratios("ping")
    ratio_raw = round(statistics.median(raw_ratios), 3) if raw_ratios else None
    endpoints = {
        "raw": "raw WSGI + psycopg (apps.devtools.bench.raw_app): token digest, HMAC of the ID, one SELECT, JSON",
        "ours": "GET /api/v1/status/?id_type=resident_id&id_number=…",
        "ping": "GET /api/v1/ping/ (token authentication only)",
    }
    measured = {kind: {"endpoint": endpoints[kind], **merged(runs[kind]), **_cpu_summary(cpu[kind])} for kind in runs}
    return {
        "persons": ctx.persons,
        "clients": s.clients,
        "server": f"gunicorn gthread, {s.server_workers} workers x {s.server_threads} threads (each of raw and ours)",
        "seconds_per_run": s.seconds,
        "rounds": s.rounds,
        "ours": measured["ours"],
        "floor": measured["raw"],
        "raw": measured["raw"],
        "ping": measured["ping"],
        "round_ratios": [round(r, 3) for r in raw_ratios],
        "ratio": ratio_raw,
        "ratio_raw": ratio_raw,
        "ratio_of": "look-ups per second, ours / the raw WSGI+psycopg app (median of the rounds)",
        "round_ratios_ping": [round(r, 3) for r in ping_ratios],
        "ratio_ping": round(statistics.median(ping_ratios), 3) if ping_ratios else None,
        "cpu_ratio_raw": _ratio(measured["ours"]["cpu_ms_per_request"], measured["raw"]["cpu_ms_per_request"]),
        "target": f">= {TARGET_RATIO_RAW}",
    }


def _ratio(ours, floor) -> float | None:
    return round(ours / floor, 3) if ours and floor else None
