"""Probes for the load balancer and the orchestrator (issue 17, item 5), without a token.

`/healthz` is liveness: the process answers (no database, no broker), so a database outage does
not make the orchestrator restart every web process. `/readyz` is readiness: the database answers
`SELECT 1`, the broker's Redis answers PING, and a Celery worker consumes each queue (its heartbeat,
apps.core.workers: no control broadcast to wait on). Each check is named in the JSON; 503 when one
fails. Both are plain Django views: no DRF throttle, no token, nothing written to the audit's
access log, and gunicorn leaves them out of its access log (config/gunicorn.py).
"""

import logging
import time

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.core import workers

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


def _database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True}


def _broker_and_workers(url: str) -> tuple[dict, dict]:
    client = workers.redis_client(url)
    client.ping()
    live = workers.live_members(client)
    queues = [q.name for q in settings.CELERY_TASK_QUEUES]
    consumed = {q: sum(q in qs for qs in live.values()) for q in queues}
    missing = [q for q, n in consumed.items() if not n]
    check = {"ok": not missing, "processes": len(live), "consumers": consumed}
    if missing:
        check["error"] = f"no live worker consumes {', '.join(missing)}"
    return {"ok": True}, check


@never_cache
@require_GET
def readyz(request):
    started = time.perf_counter()
    checks = {}
    try:
        checks["database"] = _database()
    except Exception as error:  # noqa: BLE001 - any failure is "not ready", named
        checks["database"] = {"ok": False, "error": type(error).__name__}
    url = settings.CELERY_BROKER_URL
    if not url:  # development: tasks run in-process (CELERY_TASK_ALWAYS_EAGER)
        checks["broker"] = checks["worker"] = {"ok": True, "eager": True}
    elif not url.startswith(("redis://", "rediss://", "unix://")):
        checks["broker"] = checks["worker"] = {"ok": False, "error": "not a Redis broker"}
    else:
        try:
            checks["broker"], checks["worker"] = _broker_and_workers(url)
        except Exception as error:  # noqa: BLE001
            checks["broker"] = {"ok": False, "error": type(error).__name__}
            checks["worker"] = {"ok": False, "error": "broker unreachable"}
    ready = all(c["ok"] for c in checks.values())
    body = {"status": "ok" if ready else "unavailable", "checks": checks}
    body["seconds"] = round(time.perf_counter() - started, 3)
    response = JsonResponse(body, status=200 if ready else 503)
    if not ready:  # one line naming what failed, instead of django.request's "Service Unavailable"
        logger.warning("Not ready: %s", ", ".join(name for name, c in checks.items() if not c["ok"]))
        response._has_been_logged = True
    return response
