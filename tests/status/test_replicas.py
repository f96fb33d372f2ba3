"""Status look-ups from a real PostgreSQL streaming replica (README: Read replicas; issue 16).

`.ci/replica` makes the replica (a hot standby of the primary's whole cluster, so it carries the
test database pytest-django creates on the primary) and CI sets TEST_REPLICA_URL, its alias being
`replica_test` (config/settings/test.py). Without it these tests are skipped, except when
HEALTHKIT_REQUIRE_SERVICES=1 (CI), where they fail.

The proof that a read was served by the replica: with the replica's replay paused, the primary's
row is changed; the look-up answers the value only the replica still has. The clock of the lag
checks (`replicas._monotonic`) is the test's; the lag itself is real (replay paused)."""

import contextlib
import datetime as dt
import logging
import os
import time

import pytest
from django.conf import settings
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext

from apps.core import replicas
from apps.core.clock import now
from apps.people.models import Person
from apps.people.services import person_ensure
from apps.status.models import PersonStatus
from apps.status.services import status_current, status_refresh, status_row
from tests.faults.helpers import REQUIRED

REPLICA = "replica_test"
DOWN = "replica_down"


def replica_missing() -> str:
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        return "read replicas need PostgreSQL"
    if REPLICA not in settings.DATABASES:
        return "TEST_REPLICA_URL is not set (.ci/replica makes the replica)"
    return ""


pytestmark = [
    pytest.mark.skipif(bool(replica_missing()) and not REQUIRED, reason=replica_missing() or "-"),
    pytest.mark.django_db(
        transaction=True, databases=["default", REPLICA, DOWN] if not replica_missing() else ["default"]
    ),
]

IDN = "110105199001011232"


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def routed(settings, monkeypatch):
    """Look-ups routed to the real replica: at most 1 s behind, checked every 0.25 s, a failed
    replica asked again after 5 s; the checks' clock is the test's."""
    missing = replica_missing()
    if missing:
        pytest.fail(f"HEALTHKIT_REQUIRE_SERVICES=1 but {missing}")
    settings.DATABASE_REPLICAS = [REPLICA]
    settings.DATABASE_REPLICA_MAX_LAG = 1.0
    settings.DATABASE_REPLICA_CHECK_SECONDS = 0.25
    settings.DATABASE_REPLICA_RETRY_SECONDS = 5.0
    clock = Clock()
    monkeypatch.setattr(replicas, "_monotonic", clock)
    replicas.reset()
    yield clock
    replicas.reset()


def superuser_on_replica():
    """A superuser's connection to the replica (pausing replay needs one), outside Django."""
    import psycopg

    replica = settings.DATABASES[REPLICA]
    user = os.environ.get("TEST_REPLICA_SUPERUSER", "postgres")
    return psycopg.connect(
        host=replica["HOST"], port=replica["PORT"] or 5432, user=user, dbname="postgres", autocommit=True
    )


@contextlib.contextmanager
def replay_paused():
    with superuser_on_replica() as admin:
        admin.execute("SELECT pg_wal_replay_pause()")
        try:
            yield
        finally:
            admin.execute("SELECT pg_wal_replay_resume()")


def caught_up(timeout: float = 30.0) -> None:
    """Wait until the replica has replayed everything the primary has flushed."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_flush_lsn()")
        target = replicas.lsn(cursor.fetchone()[0])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute("SELECT pg_last_wal_replay_lsn()")
            if replicas.lsn(cursor.fetchone()[0]) >= target:
                return
        time.sleep(0.05)
    pytest.fail("the replica did not catch up with the primary in 30 s")


def primary_set(person_id: int, **columns) -> None:
    """Change the primary's status row behind the ORM's back (committed at once: autocommit)."""
    assignments = ", ".join(f"{name} = %s" for name in columns)
    with connections["default"].cursor() as cursor:
        cursor.execute(
            f"UPDATE status_personstatus SET {assignments} WHERE person_id = %s", [*columns.values(), person_id]
        )


@pytest.fixture
def person(routed):
    person, _created = person_ensure(id_type="resident_id", id_number=IDN, name="王小明")
    status_refresh(person_id=person.pk)
    caught_up()
    return person


def test_the_replica_is_a_hot_standby_of_the_test_database():
    with connections[REPLICA].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery(), current_database()")
        in_recovery, name = cursor.fetchone()
    assert in_recovery is True
    assert name == connections["default"].settings_dict["NAME"]


def test_a_look_up_is_served_by_the_replica_and_a_lagging_replica_is_not_used(routed, person):
    clock = routed
    before = PersonStatus.objects.get(pk=person.pk).evidence_watermark
    assert replicas.read_alias() == REPLICA  # caught up: the primary's position noted at t0 is replayed
    with replay_paused():
        primary_set(person.pk, evidence_watermark=before + 999)  # only the primary has it
        clock.advance(0.5)  # 0.5 s behind + 0.25 s to the next check: within 1 s
        with CaptureQueriesContext(connections[REPLICA]) as on_replica, replicas.reading() as alias:
            row = status_current(person_id=person.pk)
            found = Person.objects.get(pk=person.pk)
        assert alias == REPLICA
        assert row.evidence_watermark == before, "the row came from the replica (the primary has +999)"
        assert row._state.db == REPLICA and found._state.db == REPLICA
        assert any("people_person" in q["sql"] for q in on_replica.captured_queries)

        clock.advance(0.3)  # 0.8 s + 0.25 s > 1 s: lagging
        with replicas.reading() as alias:
            row = status_current(person_id=person.pk)
        assert alias == replicas.PRIMARY
        assert row.evidence_watermark == before + 999 and row._state.db == "default"
        assert replicas.health()[REPLICA]["usable"] is False
    caught_up()
    clock.advance(0.3)
    with replicas.reading() as alias:
        row = status_current(person_id=person.pk)
    assert alias == REPLICA and row.evidence_watermark == before + 999


def test_a_dirty_status_on_the_replica_is_recomputed_on_the_primary(routed, person):
    version = PersonStatus.objects.get(pk=person.pk).version
    primary_set(person.pk, dirty_since=now())
    caught_up()
    assert status_row(person_id=person.pk, using=REPLICA).dirty_since is not None
    with replicas.reading() as alias:
        row = status_current(person_id=person.pk)
    assert alias == REPLICA
    assert row._state.db == "default" and row.dirty_since is None and row.version == version + 1
    stored = PersonStatus.objects.get(pk=person.pk)
    assert stored.dirty_since is None and stored.version == version + 1


def test_an_expired_status_on_the_replica_is_recomputed_on_the_primary(routed, person):
    version = PersonStatus.objects.get(pk=person.pk).version
    primary_set(person.pk, next_change_at=now() - dt.timedelta(seconds=1))
    caught_up()
    assert status_row(person_id=person.pk, using=REPLICA).next_change_at <= now()
    with replicas.reading():
        row = status_current(person_id=person.pk)
    assert row._state.db == "default" and row.version == version + 1
    assert PersonStatus.objects.get(pk=person.pk).version == version + 1


def test_a_status_not_yet_on_the_replica_is_computed_on_the_primary(routed, person):
    assert replicas.read_alias() == REPLICA
    with replay_paused():
        PersonStatus.objects.filter(pk=person.pk).delete()
        newcomer, _ = person_ensure(id_type="resident_id", id_number="110105199001012219", name="李四")
        routed.advance(0.3)
        with replicas.reading() as alias:
            row = status_current(person_id=newcomer.pk)
        assert alias == REPLICA
        assert row._state.db == "default" and row.version >= 1
    caught_up()


@pytest.fixture
def down_alias(routed):
    """The alias of a replica that is down (config/settings/test.py: port 1, connection refused)."""
    yield DOWN
    connections[DOWN].close()


def test_a_replica_that_is_down_is_not_used_and_asked_again_later(routed, person, down_alias, settings, caplog):
    settings.DATABASE_REPLICAS = [down_alias]
    with caplog.at_level(logging.WARNING, logger="apps.core.replicas"):
        with replicas.reading() as alias:
            row = status_current(person_id=person.pk)
    assert alias == replicas.PRIMARY and row._state.db == "default"
    assert any("replica_down is down" in r.getMessage() for r in caplog.records)
    assert replicas.health()[down_alias]["down"] is True
    routed.advance(4.9)
    assert replicas.read_alias() == replicas.PRIMARY
    assert replicas._state.replicas[down_alias].checked_at == 1000.0  # not asked again within 5 s
    routed.advance(0.2)
    assert replicas.read_alias() == replicas.PRIMARY
    assert replicas._state.replicas[down_alias].checked_at == 1005.1  # asked again, still down


def test_a_replica_failing_under_a_read_falls_back_to_the_primary(routed, person):
    assert replicas.read_alias() == REPLICA
    replica = connections[REPLICA]
    port = replica.settings_dict["PORT"]
    replica.close()
    replica.settings_dict["PORT"] = "1"  # it goes down between two checks
    try:
        with replicas.reading() as alias:
            row = status_current(person_id=person.pk)
        assert alias == REPLICA
        assert row._state.db == "default"
        assert replicas.health()[REPLICA]["down"] is True
        found = replicas.on_replica(lambda: Person.objects.get(pk=person.pk))
        assert found._state.db == "default"
    finally:
        replica.close()
        replica.settings_dict["PORT"] = port


def test_writes_never_go_to_the_replica_and_a_writing_transaction_reads_the_primary(routed, person):
    with CaptureQueriesContext(connections[REPLICA]) as on_replica:
        with replicas.reading() as alias:
            found = Person.objects.get(pk=person.pk)
            found.name = "王小红"
            found.save(update_fields=["name"])  # read from the replica, written to the primary
            row = status_current(person_id=person.pk)
            row.evidence_watermark += 1
            row.save(update_fields=["evidence_watermark"])
            status_refresh(person_id=person.pk)
        assert alias == REPLICA
        with transaction.atomic():
            PersonStatus.objects.filter(pk=person.pk).update(dirty_since=now())
            with replicas.reading() as inside:
                assert inside == replicas.PRIMARY
                assert status_current(person_id=person.pk).dirty_since is None  # saw its own write
    assert Person.objects.get(pk=person.pk).name == "王小红"
    assert on_replica.captured_queries, "the look-up read the replica"
    assert all(q["sql"].lstrip().upper().startswith("SELECT") for q in on_replica.captured_queries)


@pytest.mark.parametrize("extra", [{}, {"format": "json"}])  # the lean path, and DRF's view (`format`)
def test_the_api_look_up_reads_the_replica_and_logs_on_the_primary(routed, person, world, extra):
    """`GET /api/v1/status/` itself, by a CDC officer (whose look-ups are logged): the person and
    the row from the replica (replay paused: the primary's row says red, the replica's still
    green), then from the primary once the replica lags beyond the setting; each look-up's access
    log written to the primary."""
    from apps.audit.models import AccessLog

    caught_up()
    assert replicas.read_alias() == REPLICA  # caught up: the primary's position noted now is replayed
    query = {"id_type": "resident_id", "id_number": IDN, "why": "复核", **extra}
    with replay_paused():
        primary_set(person.pk, state="red")
        routed.advance(0.5)
        r = world.cdc.get("/api/v1/status/", query)
        assert r.status_code == 200, r.content
        assert r.json()["state"] == "green", "served by the replica (the primary's row says red)"
        routed.advance(0.3)  # 0.8 s behind + 0.25 s to the next check: beyond 1 s, the primary answers
        r = world.cdc.get("/api/v1/status/", query)
        assert r.status_code == 200 and r.json()["state"] == "red"
        assert AccessLog.objects.using("default").filter(person=person).count() == 2
