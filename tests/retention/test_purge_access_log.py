"""`purge_access_log`: look-ups of a person's record go after `RETENTION_ACCESS_LOG_DAYS` (180);
the audit of manual changes is never touched; on PostgreSQL the access log refuses every ordinary
UPDATE or DELETE, and the purge deletes through `healthkit_purge_access_log` only
(apps.retention.db; what that function refuses whoever calls it, and the application role:
tests/core/test_append_only_roles.py)."""

import datetime as dt

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from apps.audit.models import AccessLog, AuditEvent
from apps.retention.services import purge_access_log, purge_expired
from apps.status.models import Release

from .conftest import MINUTE, NOW, make_person, postgres_only

DAYS_180 = dt.timedelta(days=180)


@pytest.fixture
def looks(db):
    with time_machine.travel(NOW - dt.timedelta(days=200), tick=False):
        person = make_person(1)
        auditor = get_user_model().objects.create_user("looker", password="x")
        made = {
            name: AccessLog.objects.create(actor=auditor, person=person, at=moment, why=name)
            for name, moment in (("past", NOW - DAYS_180 - MINUTE), ("inside", NOW - DAYS_180 + MINUTE))
        }
        changes = [
            AuditEvent.objects.create(kind="popup.released", person=person, at=NOW - dt.timedelta(days=400 + i))
            for i in range(3)
        ]
    return made, changes, auditor


def test_it_purges_a_look_up_one_minute_past_and_keeps_one_a_minute_inside(looks):
    with time_machine.travel(NOW, tick=False):
        assert purge_access_log() == 1
    assert list(AccessLog.objects.values_list("why", flat=True)) == ["inside"]


def test_the_audit_of_manual_changes_is_never_touched(looks):
    _made, changes, _auditor = looks
    before = list(AuditEvent.objects.order_by("pk").values())
    with time_machine.travel(NOW + dt.timedelta(days=3650), tick=False):
        purge_expired()
    after = list(AuditEvent.objects.order_by("pk").values())
    assert after[: len(before)] == before, "ten years on, every manual change is still there, unchanged"
    assert {e["kind"] for e in after[len(before) :]} == {"retention.purged"}


@postgres_only
def test_on_postgresql_an_ordinary_delete_or_update_is_still_refused(looks):
    made, _changes, _auditor = looks
    with pytest.raises(IntegrityError), transaction.atomic():
        AccessLog.objects.filter(pk=made["past"].pk).delete()
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_accesslog")
    with pytest.raises(IntegrityError), transaction.atomic():
        AccessLog.objects.filter(pk=made["past"].pk).update(why="changed")
    with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as queries:
        assert purge_access_log() == 1, "the purge is let through"
    statements = [q["sql"] for q in queries.captured_queries]
    assert any("healthkit_purge_access_log(" in sql for sql in statements)
    assert not any(sql.lstrip().upper().startswith("DELETE") for sql in statements), "only the function deletes"
    # …and only the purge: its permission ended with it, even inside this test's transaction; the
    # setting that used to let a DELETE through gives nothing.
    with pytest.raises(IntegrityError), transaction.atomic():
        AccessLog.objects.all()._raw_delete(connection.alias)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL healthkit.retention_purge = 'on'")
        cursor.execute("DELETE FROM audit_accesslog")
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL healthkit.retention_purge = 'on'")
        cursor.execute("UPDATE audit_accesslog SET why = 'changed'")
    assert list(AccessLog.objects.values_list("why", flat=True)) == ["inside"]


@postgres_only
def test_on_postgresql_the_audit_of_manual_changes_refuses_the_purge_setting_too(looks):
    _made, changes, auditor = looks
    Release.objects.create(
        person=changes[0].person,
        popup_number=3,
        actor=auditor,
        reason="核实",
        itinerary_verified=True,
        nat_negative=True,
        commitment_signed=True,
        evidence_watermark=0,
        status_before={},
        created_at=NOW,
    )
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL healthkit.retention_purge = 'on'")
        cursor.execute("DELETE FROM audit_auditevent")
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL healthkit.retention_purge = 'on'")
        cursor.execute("DELETE FROM status_release")
    # Not even the purge functions' own setting, as the owner: these tables are never purgeable.
    for table in ("audit_auditevent", "status_release"):
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL healthkit.purging = 'on'")
            cursor.execute(f"DELETE FROM {table}")
    assert (AuditEvent.objects.count(), Release.objects.count()) == (3, 1)
