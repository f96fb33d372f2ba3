"""/healthz and /readyz (apps.core.health): no token, each check named, 503 when one fails, never
throttled, answered over plain HTTP in production, left out of gunicorn's access log."""

import os
import time

import pytest
from django.db import OperationalError
from django.test import Client

from apps.core import health, workers
from tests.faults.helpers import BROKER, REQUIRED, UNREACHABLE_BROKER

needs_redis = pytest.mark.skipif(not BROKER and not REQUIRED, reason="CELERY_TEST_BROKER_URL is not set")


def test_healthz_answers_without_the_database_or_a_token():
    # No `db` fixture: pytest-django fails any query, so this proves liveness reads nothing.
    r = Client().get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    assert "no-cache" in r["Cache-Control"]


def test_readyz_in_development_names_its_checks(db):
    r = Client().get("/readyz")
    assert r.status_code == 200
    checks = r.json()["checks"]
    assert checks["database"] == {"ok": True}
    assert checks["broker"]["eager"] and checks["worker"]["eager"]


def test_readyz_is_503_naming_the_database_when_it_fails(db, monkeypatch):
    def down():
        raise OperationalError("connection refused")

    monkeypatch.setattr(health, "_database", down)
    r = Client().get("/readyz")
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == {"ok": False, "error": "OperationalError"}


def test_readyz_is_503_naming_the_broker_when_it_cannot_be_reached(db, settings):
    settings.CELERY_BROKER_URL = UNREACHABLE_BROKER
    r = Client().get("/readyz")
    assert r.status_code == 503
    checks = r.json()["checks"]
    assert checks["database"]["ok"] and not checks["broker"]["ok"] and not checks["worker"]["ok"]


@needs_redis
def test_readyz_wants_a_live_worker_on_every_queue(db, settings):
    import redis

    assert BROKER, "required service missing: CELERY_TEST_BROKER_URL"
    settings.CELERY_BROKER_URL = BROKER
    client = redis.Redis.from_url(BROKER)
    client.delete(workers.WORKERS_KEY, workers.QUEUES_KEY)
    try:
        r = Client().get("/readyz")
        assert r.status_code == 503
        assert r.json()["checks"]["worker"]["error"] == "no live worker consumes urgent, bulk"
        workers.beat(client, "urgent@a:1", ["urgent"])
        r = Client().get("/readyz")
        assert r.status_code == 503 and r.json()["checks"]["worker"]["consumers"] == {"urgent": 1, "bulk": 0}
        workers.beat(client, "bulk@a:2", ["bulk", "urgent"])
        r = Client().get("/readyz")
        assert r.status_code == 200, r.json()
        assert r.json()["checks"]["worker"] == {"ok": True, "processes": 2, "consumers": {"urgent": 2, "bulk": 1}}
        # A worker that stopped beating STALE_SECONDS ago no longer counts.
        client.zadd(workers.WORKERS_KEY, {"bulk@a:2": time.time() - workers.STALE_SECONDS - 1})
        assert Client().get("/readyz").status_code == 503
    finally:
        client.delete(workers.WORKERS_KEY, workers.QUEUES_KEY)


def test_probes_are_never_throttled(db, settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "anon": "1/m"}
    assert all(Client().get(path).status_code == 200 for _ in range(5) for path in ("/healthz", "/readyz"))


def test_probes_are_answered_over_plain_http_where_everything_else_is_redirected(db, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]  # as config/settings/production.py
    assert Client().get("/healthz").status_code == 200
    assert Client().get("/readyz").status_code == 200
    assert Client().get("/admin/").status_code == 301


def test_production_settings_exempt_the_probes_from_the_https_redirect():
    source = open(os.path.join(os.path.dirname(health.__file__), "../../config/settings/production.py")).read()
    assert 'SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]' in source


def test_gunicorn_leaves_probes_and_scrapes_out_of_its_access_log(monkeypatch):
    from gunicorn import glogging
    from gunicorn.config import Config

    from config.gunicorn_hooks import QuietProbesLogger

    written = []
    monkeypatch.setattr(
        glogging.Logger, "access", lambda self, resp, req, environ, t: written.append(environ["PATH_INFO"])
    )
    logger = QuietProbesLogger(Config())
    for path in ("/healthz", "/readyz", "/metrics", "/api/v1/status/", "/healthz/x"):
        logger.access(None, None, {"PATH_INFO": path}, 0)
    assert written == ["/api/v1/status/", "/healthz/x"]


def test_gunicorn_configuration_names_the_logger_and_the_child_exit_hook():
    import runpy

    conf = runpy.run_path(os.path.join(os.path.dirname(health.__file__), "../../config/gunicorn.py"))
    assert conf["logger_class"] == "config.gunicorn_hooks.QuietProbesLogger"
    assert conf["child_exit"].__module__ == "config.gunicorn_hooks"


def test_a_failed_readiness_is_logged_once_naming_the_failed_checks(db, settings, caplog):
    settings.CELERY_BROKER_URL = UNREACHABLE_BROKER
    with caplog.at_level("WARNING"):
        assert Client().get("/readyz").status_code == 503
    lines = [(r.name, r.getMessage()) for r in caplog.records]
    assert lines == [("apps.core.health", "Not ready: broker, worker")]
