"""The `credential` section of `manage.py bench`: what the signed status credential costs the
portal beside the status look-up it replaces at the checkpoints (issue 16, item 2).

Under the gunicorn server the other sections use, in the same run and alternating rounds:

- `credential`: `GET /api/v1/status/credential/?id_type=resident_id&id_number=…`: the status
  look-up, signed (COSE_Sign1), noted (one INSERT) and drawn as a QR code.
- `status`: `GET /api/v1/status/?…` for the same persons: the floor, what a checkpoint asks the
  portal at every scan when it holds no credential.
- `verify`: `POST /api/v1/credentials/verify/` of credentials issued beforehand (what an online
  checkpoint would send instead of a look-up).
- `offline`: `apps.credentials.verifier.verify` with the published keys document, in this process
  on one core: what a checkpoint's own device spends per scan, and never the portal.

From the CPU per request (server workers plus the database's backends, as `status_read` measures
it), what a day's morning issue costs against a look-up at every checkpoint, for an explicit
number of checkpoint scans per person per day (`SCANS_PER_DAY`): the share of the portal's
requests and of its CPU that the credential takes off.
"""

import random
import statistics
import time

from apps.core.clock import now
from apps.credentials import verifier
from apps.credentials.selectors import keys_document
from apps.credentials.services import credential_issue
from apps.devtools.bench.load import request_bytes, run_load
from apps.devtools.bench.read_path import _cpu_summary, merged, server_cpu
from apps.people.models import Person
from apps.status.services import status_current

# The assumption of the daily arithmetic: how many times a checkpoint (metro gate, office lobby,
# shop, hospital) reads a person's code on an ordinary day. Reported for each of these; 4 is the
# headline (home -> metro in, metro out, workplace, one shop).
SCANS_PER_DAY = (2, 4, 8)
HEADLINE_SCANS = 4
# The morning issue of a city of 22 million (issue 16) if everyone fetches the day's credential
# in the same three hours before work.
CITY_PERSONS = 22_000_000
MORNING_HOURS = 3
# An issue may cost the portal up to this many look-ups' worth of requests per second; at or
# above it, issuing once a day is cheaper than any two checkpoint look-ups.
TARGET_RATIO = 0.5
CREDENTIALS_FOR_VERIFY = 200


def _issued_texts(ctx, count: int) -> list[str]:
    """Credentials of the sampled persons, issued in-process (each noted, so `superseded` is
    looked up as it would be for a real one)."""
    pks = [pk for pk, _number in ctx.people[:count]]
    texts = []
    for person in Person.objects.filter(pk__in=pks):
        texts.append(credential_issue(person=person, row=status_current(person_id=person.pk)).credential)
    return texts


def _offline_rate(texts: list[str], keys: dict, seconds: float) -> dict:
    """Offline verifications per second of CPU (one core, this process), and that each passed."""
    at = now()
    done = failed = 0
    cpu_started, wall_started = time.process_time(), time.perf_counter()
    while time.perf_counter() - wall_started < seconds:
        for text in texts:
            result = verifier.verify(text, keys, at)
            done += 1
            failed += not result.valid
    cpu = time.process_time() - cpu_started
    return {
        "verifications": done,
        "failed": failed,
        "cpu_seconds": cpu,
        "wall_seconds": time.perf_counter() - wall_started,
    }


def _daily(issue_cpu_ms: float | None, lookup_cpu_ms: float | None, verify_cpu_ms: float | None) -> dict:
    """The arithmetic of a day: per person, one issue in the morning against N look-ups (one per
    checkpoint scan), offline checkpoints then asking the portal nothing more."""
    per_scans = {}
    for scans in SCANS_PER_DAY:
        entry = {
            "portal_requests_without": scans,
            "portal_requests_with_offline_checkpoints": 1,
            "share_of_reads_taken_off": round(1 - 1 / scans, 3),
        }
        if issue_cpu_ms and lookup_cpu_ms:
            entry["portal_cpu_ms_without"] = round(scans * lookup_cpu_ms, 2)
            entry["portal_cpu_ms_with_offline_checkpoints"] = round(issue_cpu_ms, 2)
            entry["share_of_cpu_taken_off"] = round(1 - issue_cpu_ms / (scans * lookup_cpu_ms), 3)
        if issue_cpu_ms and verify_cpu_ms:
            # Checkpoints that verify online instead (for `superseded`) take nothing off.
            entry["portal_cpu_ms_with_online_verify"] = round(issue_cpu_ms + scans * verify_cpu_ms, 2)
        per_scans[str(scans)] = entry
    out = {
        "assumption": (
            "each person fetches one credential a day (the morning issue) and is scanned N times a day by "
            "checkpoints that verify offline; without the credential every scan is one GET /api/v1/status/"
        ),
        "per_person_per_day": per_scans,
    }
    if issue_cpu_ms:
        issues_per_second = CITY_PERSONS / (MORNING_HOURS * 3600)
        out["city_morning"] = {
            "persons": CITY_PERSONS,
            "hours": MORNING_HOURS,
            "issues_per_second": round(issues_per_second),
            "cores": round(issues_per_second * issue_cpu_ms / 1000, 1),
        }
    return out


def credential(ctx) -> dict:
    s = ctx.settings
    numbers = [n for _pk, n in ctx.people]
    random.Random(5).shuffle(numbers)
    host = ctx.host
    texts = _issued_texts(ctx, CREDENTIALS_FOR_VERIFY)
    keys = keys_document(now())
    query = "?id_type=resident_id&id_number="
    requests = {
        "credential": [
            request_bytes("GET", "/api/v1/status/credential/" + query + n, host=host, token=ctx.token) for n in numbers
        ],
        "status": [request_bytes("GET", "/api/v1/status/" + query + n, host=host, token=ctx.token) for n in numbers],
        "verify": [
            request_bytes(
                "POST",
                "/api/v1/credentials/verify/",
                host=host,
                token=ctx.token,
                body=b'{"credential": "%s"}' % t.encode(),
            )
            for t in texts
        ],
    }
    checks = {
        "credential": lambda status, body: status == 200 and b'"credential":"HK1:' in body.replace(b" ", b""),
        "status": lambda status, body: status == 200 and b'"state"' in body,
        "verify": lambda status, body: status == 200 and b'"valid":true' in body.replace(b" ", b""),
    }

    def load(kind: str, seconds: float):
        items, position = requests[kind], [0]

        def next_request() -> bytes:
            position[0] = (position[0] + 1) % len(items)
            return items[position[0]]

        return run_load(
            host="127.0.0.1",
            port=ctx.port,
            requests=next_request,
            clients=s.clients,
            seconds=seconds,
            check=checks[kind],
        )

    for kind in requests:
        load(kind, s.warmup)
    _offline_rate(texts, keys, s.warmup)
    runs = {kind: [] for kind in requests}
    cpu = {kind: [] for kind in requests}
    offline = []
    for _round in range(s.rounds):
        for kind in requests:
            app_before, db_before = server_cpu(ctx.server)
            result = load(kind, s.seconds)
            app_after, db_after = server_cpu(ctx.server)
            runs[kind].append(result)
            cpu[kind].append(
                {
                    "requests": result.requests + result.errors,
                    "app_cpu": app_after - app_before,
                    "db_cpu": db_after - db_before,
                }
            )
        offline.append(_offline_rate(texts, keys, min(s.seconds, 2.0)))

    def rate(result) -> float:
        return result.requests / result.seconds if result.seconds else 0.0

    ratios = [rate(c) / rate(f) for c, f in zip(runs["credential"], runs["status"], strict=True) if rate(f)]
    endpoints = {
        "credential": "GET /api/v1/status/credential/?id_type=resident_id&id_number=… (sign, note, QR)",
        "status": "GET /api/v1/status/?id_type=resident_id&id_number=…",
        "verify": "POST /api/v1/credentials/verify/ (offline verifier + superseded)",
    }
    measured = {kind: {"endpoint": endpoints[kind], **merged(runs[kind]), **_cpu_summary(cpu[kind])} for kind in runs}
    for kind in measured:  # the 23,000/s figure of status_read means nothing for these
        measured[kind].pop("cores_for_23000_per_second", None)
    offline_rates = [o["verifications"] / o["cpu_seconds"] for o in offline if o["cpu_seconds"]]
    offline_summary = {
        "what": "apps.credentials.verifier.verify with the published keys document, in-process, one core",
        "credentials": len(texts),
        "verifications": sum(o["verifications"] for o in offline),
        "failed": sum(o["failed"] for o in offline),
        "per_cpu_second": round(statistics.median(offline_rates), 1) if offline_rates else None,
        "cpu_ms_each": round(1000 / statistics.median(offline_rates), 3) if offline_rates else None,
    }
    daily = _daily(
        measured["credential"]["cpu_ms_per_request"],
        measured["status"]["cpu_ms_per_request"],
        measured["verify"]["cpu_ms_per_request"],
    )
    headline = daily["per_person_per_day"].get(str(HEADLINE_SCANS), {})
    return {
        "persons": ctx.persons,
        "clients": s.clients,
        "server": f"gunicorn gthread, {s.server_workers} workers x {s.server_threads} threads",
        "seconds_per_run": s.seconds,
        "rounds": s.rounds,
        "ours": measured["credential"],
        "floor": measured["status"],
        "verify": measured["verify"],
        "offline": offline_summary,
        "round_ratios": [round(r, 3) for r in ratios],
        "ratio": round(statistics.median(ratios), 3) if ratios else None,
        "ratio_of": "credentials issued per second / status look-ups per second (median of the rounds)",
        "cpu_ratio": _ratio(measured["credential"]["cpu_ms_per_request"], measured["status"]["cpu_ms_per_request"]),
        "daily": daily,
        "headline_scans_per_day": HEADLINE_SCANS,
        "share_of_reads_taken_off": headline.get("share_of_reads_taken_off"),
        "share_of_cpu_taken_off": headline.get("share_of_cpu_taken_off"),
        "target": f">= {TARGET_RATIO}",
    }


def _ratio(ours, floor) -> float | None:
    return round(ours / floor, 3) if ours and floor else None
