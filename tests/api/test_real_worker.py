"""A feed POST leads to the changed status through a real Celery worker on a real broker, without
eager mode (issue: status engine). Needs PostgreSQL (the worker is another process and must see
the test database) and a broker: CI provides both and sets HEALTHKIT_REQUIRE_SERVICES=1, so there
this test can never be skipped."""

import time

import pytest

from apps.status.models import PersonStatus
from tests.faults.helpers import needs_services, real_broker

pytestmark = needs_services


@pytest.fixture
def worker(transactional_db):
    from config.celery import app

    with real_broker(app) as broker:
        broker.worker(pool="solo")
        yield app


def test_a_feed_post_changes_the_status_through_the_worker(worker, monkeypatch):
    from rest_framework.test import APIClient

    from apps.accounts.services import partner_upsert
    from apps.core.clock import now
    from apps.people.identity import resident_id_check_char
    from apps.status.services import status_refresh

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
