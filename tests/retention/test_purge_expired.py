"""`purge_expired`: every purge at once, the dry run, the Celery task and the command."""

import datetime as dt
import io
import re

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connections

from apps.audit.models import AccessLog, AuditEvent
from apps.core.db import RETENTION_LOCK
from apps.evidence.models import Ingestion, Stay
from apps.people.models import Phone
from apps.people.services import PhoneInput
from apps.retention import services, tasks

from .conftest import NOW, make_person, postgres_only, telecom

EXPECTED = {
    "telecom_stays": 1,
    "unbound_phones": 1,
    "access_log": 1,
    # the year-old batch (the telecom stay's own batch goes with the stay, counted there)
    "ingestion_payloads": 1,
    "appeal_contacts": 0,
}


@pytest.fixture
def expired(areas):
    with time_machine.travel(NOW - dt.timedelta(days=400), tick=False):
        person = make_person(
            1, PhoneInput("13900000001", "alipay", NOW - dt.timedelta(days=500), NOW - dt.timedelta(days=15))
        )
        Ingestion.objects.create(feed="old", received_at=NOW - dt.timedelta(days=366), payload={"x": 1})
        AccessLog.objects.create(
            actor=get_user_model().objects.create_user("looker", password="x"),
            person=person,
            at=NOW - dt.timedelta(days=181),
            why="core",
        )
    with time_machine.travel(NOW - dt.timedelta(days=30), tick=False):
        telecom("t1", "13900000001", NOW - dt.timedelta(days=25), NOW - dt.timedelta(days=22))
    return person


def _snapshot():
    return (
        list(Stay.objects.values_list("pk", "phone_hash")),
        list(Stay.history.values_list("history_id", "phone_hash")),
        list(Phone.objects.values_list("pk", "number_hash", "number_encrypted")),
        list(AccessLog.objects.values_list("pk", flat=True)),
        list(Ingestion.objects.values_list("pk", "payload_encrypted")),
        list(AuditEvent.objects.values_list("pk", flat=True)),
    )


def test_it_runs_every_purge_and_a_second_run_finds_nothing(expired):
    with time_machine.travel(NOW, tick=False):
        assert services.purge_expired() == EXPECTED
        assert AuditEvent.objects.filter(kind="retention.purged").count() == 4
        assert services.purge_expired() == dict.fromkeys(EXPECTED, 0)
    assert AuditEvent.objects.filter(kind="retention.purged").count() == 4, "nothing purged, nothing recorded"


@postgres_only
def test_on_postgresql_the_append_only_rows_change_through_the_purge_functions_only(expired, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as queries:
        assert services.purge_expired() == EXPECTED
    statements = [q["sql"] for q in queries.captured_queries]
    for function in ("healthkit_purge_access_log", "healthkit_purge_stay_history", "healthkit_erase_phone_history"):
        assert any(f"{function}(" in sql for sql in statements), function
    guarded = {"audit_accesslog", "evidence_historicalstay", "people_historicalphone", "appeals_historicalappeal"}
    targets = [re.match(r'\s*(?:UPDATE|DELETE FROM) "(\w+)"', sql) for sql in statements]
    direct = [m.group(1) for m in targets if m and m.group(1) in guarded]
    assert not direct, direct
    assert not Stay.history.exists() and set(Phone.history.values_list("number_encrypted", flat=True)) == {""}


def test_the_dry_run_counts_and_changes_nothing(expired):
    before = _snapshot()
    with time_machine.travel(NOW, tick=False):
        assert services.purge_expired(dry_run=True) == EXPECTED
    assert _snapshot() == before


def test_the_task_runs_through_celery(expired):
    with time_machine.travel(NOW, tick=False):
        result = tasks.purge_expired.apply()
    assert result.successful() and result.get() == EXPECTED
    assert not Stay.objects.exists() and not AccessLog.objects.exists()


def test_the_beat_schedule_names_the_task(settings):
    assert settings.CELERY_BEAT_SCHEDULE["retention-purge"]["task"] == tasks.purge_expired.name


@postgres_only
def test_the_task_skips_while_another_run_holds_the_lock(expired):
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [RETENTION_LOCK])
            assert cursor.fetchone()[0]
        with time_machine.travel(NOW, tick=False):
            assert tasks.purge_expired.apply().get() is None
        assert Stay.objects.exists(), "the other run does the work"
    finally:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [RETENTION_LOCK])
        other.close()
    with time_machine.travel(NOW, tick=False):
        assert tasks.purge_expired.apply().get() == EXPECTED


def test_the_command_prints_the_counts_and_its_dry_run_changes_nothing(expired):
    before = _snapshot()
    out = io.StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("purge_expired", "--dry-run", stdout=out)
    assert _snapshot() == before
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("telecom_stays: 1 ") and len(lines) == len(EXPECTED)
    out = io.StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("purge_expired", stdout=out)
    assert "access_log: 1 " in out.getvalue()
    assert not AccessLog.objects.exists()
