"""The broker or the database lost during ingestion, with the real services (the test broker, a
real worker, PostgreSQL): the accepted batch is kept, the batch hit by a dropped connection is
kept whole or not at all, a partner's re-send (also one racing the first send) is stored once, and
every status is right once the services are back."""

import threading

import psycopg
import pytest
from django.db import close_old_connections, connection

from apps.core.clock import now
from apps.evidence import services as evidence_services
from apps.evidence.models import InboundArrival, Ingestion, ObservationOrder
from apps.people.models import Person
from apps.people.services import person_upsert
from apps.status.models import PersonStatus
from apps.status.tasks import sweep_due
from tests.api.helpers import client

from .conftest import assert_transitions_once, effects, expected_statuses, idn, population_records, stored_statuses
from .helpers import BROKER, UNREACHABLE_BROKER, broker_use, needs_services, wait_until

pytestmark = needs_services
PERSONS = 60


def dirty_count() -> int:
    return PersonStatus.objects.filter(dirty_since__isnull=False).count()


def assert_statuses_right() -> None:
    ids = sorted(Person.objects.values_list("pk", flat=True))
    assert len(ids) == PERSONS and dirty_count() == 0
    expected = expected_statuses(ids, now())
    assert stored_statuses(ids) == expected
    assert_transitions_once(expected)


def test_the_broker_lost_during_ingestion_the_batch_is_kept_and_the_worker_catches_up(broker, partner):
    broker.worker(pool="solo")
    broker_use(broker.app, UNREACHABLE_BROKER)  # this (web) process loses the broker
    for feed, records in population_records(PERSONS, now()).items():
        r = partner.feeds.post(f"/api/v1/feeds/{feed}/", {"records": records}, format="json")
        assert r.status_code == 200, r.content
        assert r.json()["accepted"] == len(records)
    assert InboundArrival.objects.count() + ObservationOrder.objects.count() == PERSONS
    assert dirty_count() == PERSONS and not PersonStatus.objects.filter(version__gt=0).exists()

    broker_use(broker.app, BROKER)  # the broker is back: the periodic sweep finds the dirty rows
    sweep_due.delay()
    wait_until(lambda: dirty_count() == 0, 30, "the worker to recompute the swept persons")
    assert_statuses_right()


def _terminate_own_backend_once(monkeypatch) -> list:
    """In the middle of the next batch (its persons and the batch as received written, its
    records not yet), terminate this process's PostgreSQL backend from another connection, as a
    failover or a network cut would."""
    original = evidence_services.records_insert
    killed = []

    def records_insert(model, rows, t):
        if not killed:
            pid = connection.connection.info.backend_pid
            with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
                killed.append(other.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0])
        return original(model, rows, t)

    monkeypatch.setattr(evidence_services, "records_insert", records_insert)
    return killed


def test_a_connection_dropped_mid_batch_answers_503_keeps_nothing_and_the_resend_is_stored_once(
    transactional_db, partner, celery_app, monkeypatch
):
    killed = _terminate_own_backend_once(monkeypatch)
    records = population_records(PERSONS, now())["observation-orders"]
    r = partner.feeds.post("/api/v1/feeds/observation-orders/", {"records": records}, format="json")
    assert killed == [True]
    assert r.status_code == 503, r.content
    assert int(r.headers["Retry-After"]) > 0 and set(r.json()) == {"detail"}
    close_old_connections()
    assert (Ingestion.objects.count(), Person.objects.count(), ObservationOrder.objects.count()) == (0, 0, 0)

    r = partner.feeds.post("/api/v1/feeds/observation-orders/", {"records": records}, format="json")
    assert r.status_code == 200 and r.json()["accepted"] == len(records)
    counts = effects()
    r = partner.feeds.post("/api/v1/feeds/observation-orders/", {"records": records}, format="json")
    assert r.json()["duplicates"] == len(records) and effects() == counts
    arrivals = population_records(PERSONS, now())["inbound-arrivals"]
    assert (
        partner.feeds.post("/api/v1/feeds/inbound-arrivals/", {"records": arrivals}, format="json").status_code == 200
    )
    assert_statuses_right()


@pytest.mark.parametrize("persons_known", [False, True], ids=["new-persons", "known-persons"])
def test_a_resend_racing_the_first_send_is_stored_once(transactional_db, partner, monkeypatch, caplog, persons_known):
    """The partner times out while its batch is still being written and sends it again: the
    re-send waits for the first (on the new persons' IDs, or on the records' source and external
    id) and is then a duplicate, not a 500 and never a second copy."""
    if persons_known:
        for n in range(PERSONS):
            person_upsert(id_type="resident_id", id_number=idn(n))
    original = evidence_services.records_insert
    written, release = threading.Event(), threading.Event()

    def records_insert(model, rows, t):
        result = original(model, rows, t)
        if threading.current_thread().name == "first-send":
            written.set()
            release.wait(10)  # hold the first transaction open, its rows written
        return result

    monkeypatch.setattr(evidence_services, "records_insert", records_insert)
    records = population_records(PERSONS, now())["observation-orders"]
    token = partner.feeds._credentials["HTTP_AUTHORIZATION"].removeprefix("Token ")
    answers = {}

    def send(name):
        try:
            r = client(token).post("/api/v1/feeds/observation-orders/", {"records": records}, format="json")
            answers[name] = (r.status_code, r.json())
        finally:
            connection.close()

    first = threading.Thread(target=send, args=["first-send"], name="first-send")
    first.start()
    assert written.wait(20)
    second = threading.Thread(target=send, args=["re-send"], name="re-send")
    second.start()
    second.join(1.0)  # it waits on the first transaction's rows
    release.set()
    first.join(20)
    second.join(20)
    assert answers["first-send"][0] == 200 and answers["first-send"][1]["accepted"] == len(records)
    assert answers["re-send"][0] == 200, answers["re-send"]
    assert answers["re-send"][1]["duplicates"] == len(records) and answers["re-send"][1]["accepted"] == 0
    assert ObservationOrder.objects.count() == len(records)
    assert ObservationOrder.history.count() == len(records)
    assert Person.objects.count() == (PERSONS if persons_known else len(records))
    assert "raced another" in caplog.text, "the re-send did meet the first one's rows"
