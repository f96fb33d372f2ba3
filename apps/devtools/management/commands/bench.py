"""`manage.py bench`: the benchmarks of `apps.devtools.bench` against the configured PostgreSQL
database (`make bench` prepares one and runs this). Generates the population when the database has
fewer persons than `--persons`, runs the sections, writes the results file and the table of the
report. Never fails on a missed target: the numbers are the output."""

import dataclasses
import datetime as dt
import os
import threading
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

from apps.core.management.base import BaseCommand, CommandError
from apps.devtools.bench import report, sections
from apps.devtools.bench.infra import ROOT, log

SECTIONS = (
    "status_read",
    "ingest",
    "fanout",
    "sweep",
    "freshness",
    "freshness_under_fanout",
    "reviews",
    "admin_changelist",
    "audit_seal",
    "restrictions_feed",
    "status_read_replica",
    "credential",
)


class Command(BaseCommand):
    help = "Run the benchmarks (PostgreSQL) and write bench/results.json and the table in BENCHMARKS.md."

    def add_arguments(self, parser):
        parser.add_argument("--persons", type=int, default=100_000)
        parser.add_argument("--smoke", action="store_true", help="seconds per section instead of minutes")
        parser.add_argument("--only", default="", help=f"comma-separated sections (default all: {','.join(SECTIONS)})")
        parser.add_argument("--results", dest="results_path", default=str(ROOT / "bench" / "results.json"))
        parser.add_argument("--report", dest="report_path", default=str(ROOT / "BENCHMARKS.md"))
        parser.add_argument("--workers", type=int, default=None, help="population generation processes")
        parser.add_argument("--server-workers", type=int, default=None, help="gunicorn workers (default 2)")
        parser.add_argument("--server-threads", type=int, default=None, help="gunicorn threads a worker (default 4)")
        parser.add_argument("--clients", type=int, default=None, help="concurrent HTTP clients (default 16)")

    def handle(self, *args, persons, smoke, only, results_path, report_path, workers, **options):
        tuning = {k: options[k] for k in ("server_workers", "server_threads", "clients") if options.get(k)}
        if connection.vendor != "postgresql":
            raise CommandError("The benchmarks need PostgreSQL (DATABASE_URL=postgres://…); `make bench` sets one up.")
        if settings.CELERY_BROKER_URL:
            raise CommandError("Run the benchmarks with CELERY_BROKER_URL unset: sections run tasks eagerly.")
        wanted = [s.strip() for s in only.split(",") if s.strip()] or list(SECTIONS)
        unknown = set(wanted) - set(SECTIONS)
        if unknown:
            raise CommandError(f"Unknown sections: {', '.join(sorted(unknown))}")
        started = time.perf_counter()
        out = {
            "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "smoke": smoke,
            "machine": {"cpus": os.cpu_count(), "postgresql": _pg_version()},
            "generation": _population_ensure(persons, workers),
            "sections": {},
        }
        settings_ = dataclasses.replace(sections.Settings.for_run(smoke=smoke), **tuning)
        ctx = sections.context_prepare(settings_)
        out["persons"] = ctx.persons
        try:
            if {"status_read", "ingest", "freshness", "reviews", "audit_seal", "credential"} & set(wanted):
                log("starting gunicorn")
                sections.server_start(ctx)
            for name in SECTIONS:
                if name not in wanted:
                    continue
                log(f"{name} on {ctx.persons:,} persons")
                section_started = time.perf_counter()
                fn = getattr(sections, name)
                with LoadSampler() as load:
                    out["sections"][name] = fn(ctx)
                out["sections"][name]["wall_seconds"] = round(time.perf_counter() - section_started, 1)
                out["sections"][name]["machine_load"] = load.summary()
                log(f"{name}: ratio {out['sections'][name].get('ratio')} ({out['sections'][name]['wall_seconds']} s)")
        finally:
            sections.server_stop(ctx)
        out["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        out["wall_seconds"] = round(time.perf_counter() - started, 1)
        report.verdicts(out)
        report.write(out, results_path=Path(results_path), report_path=Path(report_path))
        self.stdout.write(report.table(out))


class LoadSampler:
    """The machine's load while a section runs: the 1-minute load average (`os.getloadavg`) read
    every 5 s by a thread, so a result says how busy the machine was when it was measured (every
    section's own load included: the bench's server, workers and clients run on the same cores)."""

    INTERVAL = 5.0

    def __enter__(self):
        self._samples = [os.getloadavg()[0]]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.INTERVAL):
            self._samples.append(os.getloadavg()[0])

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._samples.append(os.getloadavg()[0])

    def summary(self) -> dict:
        samples = self._samples
        return {
            "loadavg_1m_mean": round(sum(samples) / len(samples), 2),
            "loadavg_1m_max": round(max(samples), 2),
            "cpus": os.cpu_count(),
        }


def _pg_version() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return "PostgreSQL " + cursor.fetchone()[0].split()[0]


def _population_ensure(persons: int, workers: int | None) -> dict:
    from apps.devtools.population import population_generate

    have = sections.persons_count()
    if have >= persons:
        log(f"{have:,} persons already there: no generation")
        return {"persons": 0, "reused": have}
    log(f"generating {persons - have:,} persons")
    last = [0.0]
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if time.perf_counter() - last[0] >= 15 or done >= total:
            last[0] = time.perf_counter()
            log(f"  {done:,} / {total:,} persons, {time.perf_counter() - started:.0f} s")

    return population_generate(persons=persons - have, workers=workers, progress=progress).as_json()
