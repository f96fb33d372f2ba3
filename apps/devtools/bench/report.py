"""Writing the results: `bench/results.json` (every number) and the table of `BENCHMARKS.md`.

Only the part of BENCHMARKS.md between the two markers below is rewritten, so the analysis written
around it by hand stays; a missing file is created from a short template."""

import json
import os
from pathlib import Path

BEGIN = "<!-- bench:results:begin (written by `make bench`; edit outside these markers) -->"
END = "<!-- bench:results:end -->"

TEMPLATE = f"""# Benchmarks

Written by `make bench` (`BENCH_PERSONS`, default 100000; `BENCH_SMOKE=1` for a quick run).

{BEGIN}
{END}
"""


def _fmt(value, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _met(section: dict) -> bool | None:
    ratio = section.get("ratio")
    if ratio is None:
        return None
    target = section.get("target", "")
    if target.startswith(">="):
        return ratio >= float(target[2:])
    if target.startswith("<="):
        return ratio <= float(target[2:])
    return ratio < 1  # "p99 < 1000 ms", "< 1000 ms": the ratio is against that limit


def verdicts(results: dict) -> dict:
    """Adds `met` to every section that has a target."""
    for section in results.get("sections", {}).values():
        if isinstance(section, dict) and "target" in section:
            section["met"] = _met(section)
    return results


def _load(section: dict) -> str:
    """The machine's 1-minute load average while the section ran (commands/bench.py LoadSampler)."""
    load = section.get("machine_load") or {}
    if not load:
        return "–"
    return f"{_fmt(load.get('loadavg_1m_mean'), 1)} / {_fmt(load.get('loadavg_1m_max'), 1)} on {load.get('cpus')} CPUs"


def table(results: dict) -> str:
    sections = results.get("sections", {})
    rows = []

    def add(name, ours, floor, section):
        met = section.get("met")
        verdict = "met" if met else ("**missed**" if met is False else "–")
        rows.append(
            f"| `{name}` | {ours} | {floor} | {_fmt(section.get('ratio'), 3)} "
            f"({section.get('ratio_of', '')}) | {section.get('target', '')} | {verdict} | {_fmt(section.get('persons'))} "
            f"| {_load(section)} |"
        )

    if s := sections.get("status_read"):
        o, f = s["ours"], s["floor"]
        if "raw" in s:  # the raw WSGI+psycopg floor (read_path.py), with CPU per request and ping
            p = s["ping"]
            add(
                "status_read",
                f"{_fmt(o['per_second'])} look-ups/s, {_fmt(o['cpu_ms_per_request'], 2)} ms CPU each "
                f"({_fmt(o['cores_for_23000_per_second'])} cores for 23,000/s), p99 {_fmt(o['p99_ms'])} ms; "
                f"ping {_fmt(p['per_second'])}/s, {_fmt(p['cpu_ms_per_request'], 2)} ms CPU "
                f"(ratio {_fmt(s.get('ratio_ping'), 3)})",
                f"raw app {_fmt(f['per_second'])} look-ups/s, {_fmt(f['cpu_ms_per_request'], 2)} ms CPU each "
                f"({_fmt(f['cores_for_23000_per_second'])} cores for 23,000/s)",
                s,
            )
        else:
            add(
                "status_read",
                f"{_fmt(o['per_second'])} look-ups/s, p50 {_fmt(o['p50_ms'])} ms, p99 {_fmt(o['p99_ms'])} ms",
                f"{_fmt(f['per_second'])} pings/s, p50 {_fmt(f['p50_ms'])} ms, p99 {_fmt(f['p99_ms'])} ms",
                s,
            )
    if s := sections.get("fanout"):
        o = s["ours"]
        modes = ""
        if "workers_1" in o:  # eager, 1 and 2 worker processes side by side (fanout.py)
            modes = (
                f"; 1 worker {_fmt(o['workers_1']['seconds'], 2)} s ({_fmt(o['workers_1']['ratio'], 1)}×), "
                f"eager {_fmt(o['eager']['seconds'], 2)} s ({_fmt(o['eager']['ratio'], 1)}×)"
            )
        table = s.get("table") or {}
        if table.get("updates"):
            modes += f"; HOT {_fmt(table['hot_share'], 2)} of {_fmt(table['updates'])} updates, {_fmt(table['dead_rows_after'])} dead rows"
        add(
            "fanout",
            f"{_fmt(o['seconds'], 2)} s for {_fmt(s['affected'])} statuses with 2 workers "
            f"({_fmt(o['per_person_ms'], 2)} ms each){modes}",
            f"{_fmt(s['floor']['seconds'], 3)} s (one UPDATE, {_fmt(s['floor']['rows'])} rows)",
            s,
        )
    if s := sections.get("ingest"):
        o, f = s["ours"], s["floor"]
        add(
            "ingest",
            f"{_fmt(o['stays_per_second'])} stays/s (batches of 1,000, p50 {_fmt(o['batch_p50_ms'], 0)} ms)",
            f"{_fmt(f['stays_per_second'])} stays/s (COPY)",
            s,
        )
    if s := sections.get("sweep"):
        add(
            "sweep",
            f"{_fmt(s['one_percent']['seconds'], 2)} s for 1% ({_fmt(s['one_percent']['recomputed'])} due)",
            f"{_fmt(s['all']['seconds'], 2)} s for 100% ({_fmt(s['all']['recomputed'])} due)",
            s,
        )
    if s := sections.get("freshness"):
        add(
            "freshness",
            f"p50 {_fmt(s['p50_ms'])} ms, p99 {_fmt(s['p99_ms'])} ms ({_fmt(s['samples'])} feeds)",
            "1 s",
            s,
        )
    if s := sections.get("freshness_under_fanout"):
        o, f = s["ours"], s["floor"]
        add(
            "freshness_under_fanout",
            f"p99 {_fmt(o['p99_ms'])} ms (p50 {_fmt(o['p50_ms'])} ms, {_fmt(o['samples'])} one-record feeds) during a "
            f"fan-out of {_fmt(s['fanout_persons'])}, urgent and bulk queues",
            f"one shared queue: p99 {_fmt(f['p99_ms'])} ms (p50 {_fmt(f['p50_ms'])} ms, {_fmt(f['samples'])} feeds)",
            s,
        )
    if s := sections.get("reviews"):
        add(
            "reviews",
            f"release answered → reviewed: p50 {_fmt(s['p50_ms'])} ms, p99 {_fmt(s['p99_ms'])} ms "
            f"({_fmt(s['samples'])} releases)",
            "50 ms",
            s,
        )
    if s := sections.get("admin_changelist"):
        add(
            "admin_changelist",
            ", ".join(
                f"{k} {_fmt(v['median_ms'])} ms" for k, v in s.items() if isinstance(v, dict) and "median_ms" in v
            ),
            "1 s",
            s,
        )
    if s := sections.get("audit_seal"):
        o, f = s["ours"], s["floor"]
        add(
            "audit_seal",
            f"{_fmt(o['per_second'])} staff look-ups/s with the sealer, p99 {_fmt(o['p99_ms'])} ms "
            f"({_fmt(o['rows_sealed_meanwhile'])} rows sealed meanwhile, at most "
            f"{_fmt(o['unsealed_at_the_end_max_seconds'], 2)} s behind)",
            f"{_fmt(f['per_second'])} staff look-ups/s without, p99 {_fmt(f['p99_ms'])} ms",
            s,
        )
    if s := sections.get("restrictions_feed"):  # apps/devtools/bench/feed.py
        r, lifted = s["restricted"], s["lifted"]
        add(
            "restrictions_feed",
            f"restricted page of {_fmt(s['page_size'])} (of {_fmt(s['totals']['restricted'])}): "
            + ", ".join(f"{w} {_fmt(r[w]['median_ms'])} ms (db {_fmt(r[w]['db_ms'], 2)} ms)" for w in r)
            + f"; lifted (of {_fmt(s['totals']['lifted'])}): "
            + ", ".join(f"{w} {_fmt(lifted[w]['median_ms'])} ms" for w in lifted),
            "old cursor, db: " + ", ".join(f"{w} {_fmt(r[w]['db_ms_before'], 2)} ms" for w in r),
            s,
        )
    if s := sections.get("status_read_replica"):  # apps/devtools/bench/replica.py
        if s.get("measured"):
            o, f = s["replica"], s["primary"]
            add(
                "status_read_replica",
                f"{_fmt(o['per_second'])} look-ups/s with one replica ({_fmt(100 * o['served_by_replica'])}% "
                f"served there; primary {_fmt(o['primary_db_cpu_ms'], 3)}, replica {_fmt(o['replica_db_cpu_ms'], 3)} "
                "ms db CPU each)",
                f"{_fmt(f['per_second'])} look-ups/s, primary alone ({_fmt(f['primary_db_cpu_ms'], 3)} ms db CPU each)",
                s,
            )
        else:
            add("status_read_replica", s.get("why", "not measured"), "–", s)
    if s := sections.get("credential"):  # apps/devtools/bench/credential.py
        o, f, off = s["ours"], s["floor"], s["offline"]
        add(
            "credential",
            f"{_fmt(o['per_second'])} issued/s, {_fmt(o['cpu_ms_per_request'], 2)} ms CPU each, p99 {_fmt(o['p99_ms'])} ms; "
            f"verify {_fmt(s['verify']['per_second'])}/s ({_fmt(s['verify']['cpu_ms_per_request'], 2)} ms CPU); "
            f"offline {_fmt(off['per_cpu_second'])}/s on one core; at {s['headline_scans_per_day']} scans a day "
            f"{_fmt(s.get('share_of_reads_taken_off'), 2)} of reads, {_fmt(s.get('share_of_cpu_taken_off'), 2)} of CPU off",
            f"status {_fmt(f['per_second'])} look-ups/s, {_fmt(f['cpu_ms_per_request'], 2)} ms CPU each, "
            f"p99 {_fmt(f['p99_ms'])} ms",
            s,
        )
    generation = results.get("generation") or {}
    head = [
        f"Run of {results.get('started_at', '?')} to {results.get('finished_at', '?')}: "
        f"{_fmt(results.get('persons'))} persons"
        + (" (smoke)" if results.get("smoke") else "")
        + f", {results.get('machine', {}).get('cpus', '?')} CPUs, {results.get('machine', {}).get('postgresql', '')}.",
    ]
    if generation.get("seconds") is not None:
        head.append(
            f"Population generated in {_fmt(generation['seconds'])} s "
            f"({_fmt(generation.get('persons_per_second'))} persons/s, {generation.get('workers')} workers)."
        )
    lines = [
        *head,
        "",
        "| section | ours | floor | ratio | target | verdict | persons | machine load (1-min, mean / max) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        *rows,
    ]
    return "\n".join(lines)


def write(results: dict, *, results_path: Path, report_path: Path) -> None:
    results_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = results_path.with_name(results_path.name + ".tmp")
    tmp.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, results_path)

    report_path.parent.mkdir(parents=True, exist_ok=True)
    text = report_path.read_text(encoding="utf-8") if report_path.exists() else TEMPLATE
    if BEGIN not in text or END not in text:
        text = text.rstrip("\n") + "\n\n" + BEGIN + "\n" + END + "\n"
    before, rest = text.split(BEGIN, 1)
    _old, after = rest.split(END, 1)
    report_path.write_text(before + BEGIN + "\n" + table(results) + "\n" + END + after, encoding="utf-8")
