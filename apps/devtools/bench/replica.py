"""The `status_read_replica` section of `manage.py bench`: status look-ups per second with one
streaming replica beside the primary, against the primary alone (README: Read replicas).

Measured in-process, on the look-up's own read path — `person_by_id` then `status_current`
inside `replicas.reading()`, as the status API does — by `server_workers` forked processes looping
over the sample persons for `seconds`, the two configurations alternating in rounds. Each process
reports its own CPU and that of its database backends (read from /proc: the machine is shared, so a
cluster-wide figure would count the other benchmarks). The replica comes from BENCH_REPLICA_URL
(its host, port and role; the database is the bench's own, which a streaming replica carries): on
this machine `.ci/replica` starts or makes it. Without BENCH_REPLICA_URL: "not measured".

On one machine the replica competes for the same cores as the primary and the processes doing the
look-ups, so the ratio says what routing costs and what moving the database work away from the
primary's backends looks like, not what a replica on its own hardware would add."""

import multiprocessing
import os
import statistics
import subprocess
import time
from urllib.parse import urlsplit

import environ
from django.conf import settings
from django.db import connections

from apps.core import replicas
from apps.devtools.bench.infra import ROOT, log
from apps.people.selectors import person_by_id
from apps.status.services import status_current

ALIAS = "bench_replica"
TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc (0 when it is gone or unreadable)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS
    except (OSError, IndexError, ValueError):
        return 0.0


def _backend_pid(alias: str) -> int:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _worker(aliases: list[str], people: list, seconds: float, warmup: float, offset: int, out) -> None:
    settings.DATABASE_REPLICAS = aliases
    replicas.reset()
    backends = {"default": _backend_pid("default")}
    if aliases:
        backends[ALIAS] = _backend_pid(ALIAS)
    i = offset

    def one():
        nonlocal i
        _pk, number = people[i % len(people)]
        i += 1
        with replicas.reading() as alias:
            person = person_by_id(id_type="resident_id", id_number=number)
            status_current(person_id=person.pk)
        return alias

    deadline = time.perf_counter() + warmup
    while time.perf_counter() < deadline:
        one()
    served = {}
    cpu0 = {name: _cpu_seconds(pid) for name, pid in backends.items()}
    app0 = sum(os.times()[:2])
    started = time.perf_counter()
    deadline = started + seconds
    count = 0
    while time.perf_counter() < deadline:
        alias = one()
        served[alias] = served.get(alias, 0) + 1
        count += 1
    elapsed = time.perf_counter() - started
    out.put(
        {
            "count": count,
            "seconds": elapsed,
            "app_cpu": sum(os.times()[:2]) - app0,
            "db_cpu": {name: _cpu_seconds(pid) - cpu0[name] for name, pid in backends.items()},
            "served": served,
        }
    )
    connections.close_all()


def _round(ctx, aliases: list[str]) -> dict:
    s = ctx.settings
    connections.close_all()  # the children connect on their own; never share a socket across fork
    fork = multiprocessing.get_context("fork")
    out = fork.Queue()
    procs = [
        fork.Process(target=_worker, args=(aliases, ctx.people, s.seconds, s.warmup, n * 97, out))
        for n in range(s.server_workers)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=s.seconds + s.warmup + 120) for _ in procs]
    for p in procs:
        p.join()
    count = sum(r["count"] for r in results)
    seconds = statistics.mean(r["seconds"] for r in results)
    served = {}
    for r in results:
        for alias, n in r["served"].items():
            served[alias] = served.get(alias, 0) + n
    primary_cpu = sum(r["db_cpu"].get("default", 0) for r in results)
    replica_cpu = sum(r["db_cpu"].get(ALIAS, 0) for r in results)
    app_cpu = sum(r["app_cpu"] for r in results)
    return {
        "per_second": count / seconds if seconds else 0.0,
        "lookups": count,
        "served_by_replica": served.get(ALIAS, 0) / count if count else 0.0,
        "app_cpu_ms": 1000 * app_cpu / count if count else None,
        "primary_db_cpu_ms": 1000 * primary_cpu / count if count else None,
        "replica_db_cpu_ms": 1000 * replica_cpu / count if count else None,
    }


def _replica_ready(url: str) -> str:
    """The replica's alias, its settings from BENCH_REPLICA_URL on the bench's own database;
    on this machine `.ci/replica` starts it (or makes it) first."""
    parts = urlsplit(url)
    if parts.hostname in ("127.0.0.1", "localhost"):
        env = dict(os.environ, PGHOST="127.0.0.1", REPLICA_PORT=str(parts.port or 5433))
        subprocess.run([str(ROOT / ".ci" / "replica")], env=env, check=True, stdout=subprocess.DEVNULL)
    config = environ.Env.db_url_config(url)
    default = connections.settings["default"]
    connections.settings[ALIAS] = {
        **default,
        **{k: v for k, v in config.items() if k in ("HOST", "PORT", "USER", "PASSWORD")},
        "NAME": default["NAME"],
    }
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_flush_lsn()")
        target = replicas.lsn(cursor.fetchone()[0])
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:  # the bench database itself must have reached the replica
        try:
            with connections[ALIAS].cursor() as cursor:
                cursor.execute("SELECT pg_last_wal_replay_lsn()")
                if replicas.lsn(cursor.fetchone()[0]) >= target:
                    return ALIAS
        except Exception:  # noqa: BLE001 - the database may not be there yet: wait
            connections[ALIAS].close()
        time.sleep(0.5)
    raise RuntimeError("the replica did not catch up with the bench database in 600 s")


def status_read_replica(ctx) -> dict:
    url = os.environ.get("BENCH_REPLICA_URL", "")
    if not url:
        return {
            "persons": ctx.persons,
            "measured": False,
            "why": "not measured: BENCH_REPLICA_URL is not set (e.g. postgres://postgres@127.0.0.1:5433/)",
        }
    alias = _replica_ready(url)
    log(f"status_read_replica: replica {alias} at {urlsplit(url).netloc} caught up")
    rounds = {"primary": [], "replica": []}
    order = (("primary", []), ("replica", [alias]))
    for n in range(ctx.settings.rounds):
        for name, aliases in order if n % 2 == 0 else reversed(order):
            rounds[name].append(_round(ctx, aliases))
    result = {"persons": ctx.persons, "measured": True, "processes": ctx.settings.server_workers}
    for name, runs in rounds.items():
        result[name] = {
            key: round(statistics.median(r[key] for r in runs), 3) for key in runs[0] if runs[0][key] is not None
        }
        result[name]["per_second_rounds"] = [round(r["per_second"], 1) for r in runs]
    ratios = [r["per_second"] / p["per_second"] for r, p in zip(rounds["replica"], rounds["primary"], strict=True)]
    result.update(
        {
            "method": f"person_by_id + status_current inside replicas.reading(), {ctx.settings.server_workers} "
            f"forked processes, {ctx.settings.rounds} alternating rounds of {ctx.settings.seconds} s, "
            f"one replica (BENCH_REPLICA_URL) on the same {os.cpu_count()}-core machine",
            "ratio": round(statistics.median(ratios), 3),
            "ratio_of": "look-ups/s with the replica / primary alone (median of the rounds' ratios)",
            "target": ">= 1.0",
        }
    )
    connections[alias].close()
    return result
