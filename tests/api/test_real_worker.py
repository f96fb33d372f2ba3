"""A feed POST leads to the changed status through a real Celery worker on a real broker, without
eager mode (issue: status engine). Needs PostgreSQL (the worker is another process and must see
the test database) and a broker: CI provides both and sets HEALTHKIT_REQUIRE_SERVICES=1, so there
this test can never be skipped."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from apps.status.models import PersonStatus

BROKER = os.environ.get("CELERY_TEST_BROKER_URL", "")
REQUIRED = os.environ.get("HEALTHKIT_REQUIRE_SERVICES") == "1"
ROOT = Path(__file__).resolve().parents[2]


def _services_missing() -> str:
    if not BROKER:
        return "CELERY_TEST_BROKER_URL is not set"
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        return "the worker needs a shared PostgreSQL database"
    return ""


pytestmark = pytest.mark.skipif(bool(_services_missing()) and not REQUIRED, reason=_services_missing() or "-")


def _reset_connections(app) -> None:
    """Drop pooled broker connections so the next use connects to the configured broker. Eager
    tasks also take a producer from kombu's global pools, so those are emptied too (a closed pool
    left there would fail every later `delay`)."""
    from kombu import pools

    if app._pool is not None:
        app._pool.force_close_all()
    app._pool = None
    app.amqp._producer_pool = None
    pools.reset()


@pytest.fixture
def worker(transactional_db):
    missing = _services_missing()
    assert not missing, f"required service missing: {missing}"
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = dict(os.environ, DATABASE_URL=url, CELERY_BROKER_URL=BROKER, DJANGO_SETTINGS_MODULE="config.settings.test")
    from config.celery import app

    app.conf.broker_url = BROKER
    app.conf.task_always_eager = False
    _reset_connections(app)
    app.control.purge()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "-l",
            "warning",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if app.control.ping(timeout=0.5):
                    break
            except Exception:  # noqa: BLE001 - the broker may still be starting
                pass
        else:
            raise AssertionError("the Celery worker did not start")
        yield app
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        app.conf.task_always_eager = True
        app.conf.broker_url = ""
        _reset_connections(app)


def test_a_feed_post_changes_the_status_through_the_worker(worker, monkeypatch):
    import io

    from django.core.management import call_command
    from rest_framework.test import APIClient

    from apps.accounts.services import partner_upsert
    from apps.core.clock import now
    from apps.people.identity import resident_id_check_char
    from apps.status.services import status_refresh

    call_command("load_areas", stdout=io.StringIO())
    _partner, token = partner_upsert(name="feeds", scopes=["feeds"])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Token " + token)
    idn = "11010519900101123" + resident_id_check_char("11010519900101123")
    r = api.post("/api/v1/persons/", {"id_type": "resident_id", "id_number": idn, "name": "王小明"}, format="json")
    assert r.status_code == 201
    row = status_refresh(person_id=PersonStatus.objects.model._meta.get_field("person").related_model.objects.get().pk)
    assert row.state == "green"
    from apps.status import services

    in_process = []
    monkeypatch.setattr(services, "status_refresh", lambda **kw: in_process.append(kw))
    entered = now().isoformat()
    record = {"external_id": "in-1", "id_type": "resident_id", "id_number": idn, "entered_at": entered, "port": "PEK"}
    assert api.post("/api/v1/feeds/inbound-arrivals/", {"records": [record]}, format="json").status_code == 200

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        row = PersonStatus.objects.get(pk=row.pk)
        if row.state == "popup" and row.dirty_since is None:
            break
        time.sleep(0.2)
    assert row.state == "popup", "the worker recomputed the status without any read"
    assert [p["number"] for p in row.popups] == [2]
    assert in_process == [], "the recomputation ran in the worker, not eagerly in this process"
