"""The `reviews` section of `manage.py bench`: how long after a release is answered its background
review is written (SPEC §5, apps.reviews), on a real Celery worker on Redis.

Each sample releases one active popup through the API (`POST /api/v1/popups/{id}/release/` under
gunicorn, as a CDC officer), then polls the review's row until it is no longer pending. The time
from the release's answer (the release committed, its review's task sent) to the review written is
what the review adds: the broker, the worker picking the task up, and the checks."""

import json
import random
import time
import urllib.error
import urllib.request

from django.db import connection

from apps.accounts.choices import Role
from apps.accounts.services import staff_upsert
from apps.devtools.bench import infra
from apps.devtools.bench.load import percentile_ms
from apps.devtools.demo import CDC_CODE
from apps.status.models import Popup

BENCH_REVIEWER = "bench_reviews_cdc"
TARGET_MS = 50.0


def _post(host: str, token: str, path: str, payload: dict) -> int:
    request = urllib.request.Request(
        f"http://{host}{path}",
        data=json.dumps(payload).encode(),
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _review_status(person_id: int, after_release: int) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT v.status FROM reviews_releasereview v JOIN status_release r ON r.id = v.release_id "
            "WHERE r.person_id = %s AND r.id > %s ORDER BY r.id DESC LIMIT 1",
            [person_id, after_release],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _last_release_id() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM status_release")
        return cursor.fetchone()[0]


def reviews(ctx) -> dict:
    samples = ctx.settings.review_samples
    _user, token = staff_upsert(username=BENCH_REVIEWER, role=Role.CDC_OFFICER, org_code=CDC_CODE)
    episodes = list(Popup.objects.filter(ended_at__isnull=True).values_list("pk", "person_id")[: samples * 3])
    random.Random(15).shuffle(episodes)
    infra.redis_flush()
    worker = infra.celery_worker_start(env=infra.server_env(), concurrency=2)
    latencies, answers, timeouts, refused, tried = [], [], 0, 0, 0
    try:
        for popup_id, person_id in episodes:
            if len(latencies) >= samples:
                break
            before = _last_release_id()
            started = time.perf_counter()
            status = _post(
                ctx.host,
                token,
                f"/api/v1/popups/{popup_id}/release/",
                {"reason": "bench", "itinerary_verified": True, "nat_negative": True, "commitment_signed": True},
            )
            answered = time.perf_counter()
            if status != 200:  # ended meanwhile (another popup of the person released it, or cleared)
                refused += 1
                continue
            tried += 1
            deadline = answered + (60 if tried <= 2 else 10)  # the first waits for the worker to start
            while time.perf_counter() < deadline:
                state = _review_status(person_id, before)
                if state is not None and state != "pending":
                    break
                time.sleep(0.001)
            else:
                timeouts += 1
                continue
            if tried > 2:  # two warm-ups
                latencies.append(time.perf_counter() - answered)
                answers.append(answered - started)
    finally:
        worker.stop()
        infra.redis_flush()
    p99 = percentile_ms(latencies, 99)
    return {
        "persons": ctx.persons,
        "samples": len(latencies),
        "timeouts": timeouts,
        "refused": refused,
        "method": (
            "POST /api/v1/popups/{id}/release/ (CDC officer, gunicorn) answered → its review's row no longer "
            "pending, written by `celery -A config worker` (prefork, 2) on Redis db 14"
        ),
        "p50_ms": percentile_ms(latencies, 50),
        "p99_ms": p99,
        "max_ms": round(max(latencies) * 1000, 2) if latencies else None,
        "release_p50_ms": percentile_ms(answers, 50),
        "ratio": round(p99 / TARGET_MS, 3) if p99 is not None else None,
        "ratio_of": f"p99 / the {TARGET_MS:.0f} ms target",
        "target": f"p99 < {TARGET_MS:.0f} ms",
    }
