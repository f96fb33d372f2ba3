"""The sealed audit (issue 15, apps.audit.chain): rows are appended as before and sealed afterwards
into an RFC 6962 tree whose signed checkpoints tell any change, removal, insertion or reordering of
a sealed row, by anyone, the database owner included (who can switch the append-only trigger off:
these tests do it as a malicious owner would, with ALTER TABLE … DISABLE TRIGGER); the retention
purge removes access-log rows and keeps their leaves, so the audit still verifies.

The tampering tests run on SQLite too (the trigger dropped and put back); the ones that need a
second connection, the purge's SECURITY DEFINER function or advisory locks are PostgreSQL only
(`postgres_only`: they fail instead of skipping when HEALTHKIT_REQUIRE_SERVICES=1)."""

import base64
import datetime as dt
import io
import json
import os
from contextlib import contextmanager

import psycopg
import pytest
import time_machine
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import translation

from apps.audit import chain, merkle, services, signing, tasks
from apps.audit.models import AccessLog, AuditCheckpoint, AuditEvent, AuditLeaf, AuditLeafPurge
from apps.core.db import AUDIT_SEAL_LOCK
from apps.people.models import Person
from apps.retention.services import purge_access_log
from tests.api.helpers import at

NOW = at(2022, 3, 1, 9)
DAY = dt.timedelta(days=1)
IS_POSTGRES = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
postgres_only = pytest.mark.skipif(
    not IS_POSTGRES and os.environ.get("HEALTHKIT_REQUIRE_SERVICES") != "1",
    reason="PostgreSQL only: a second connection's transaction, pg_locks, the purge function, advisory locks",
)


@pytest.fixture(autouse=True)
def _english():
    """The commands' messages are asserted in English (they are translated, like every message)."""
    with translation.override("en"):
        yield


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def actor(db):
    return get_user_model().objects.create_user("chain_actor", password="x")


@pytest.fixture
def person(db):
    return Person.objects.create(
        id_type="resident_id", id_hash="1" * 64, id_encrypted="x", display_id="11**01", name="李雷"
    )


def look(actor, person, why="status look-up", at=None, **extra) -> AccessLog:
    return AccessLog.objects.create(actor=actor, person=person, at=at or NOW, why=why, via="api", **extra)


def change(actor, person, reason="核实无误", **extra) -> AuditEvent:
    detail = {"popups": [3], "checklist": {"nat_negative": True}, "status_after": {"state": "green"}}
    return AuditEvent.objects.create(
        kind="popup.released", actor=actor, person=person, at=NOW, reason=reason, detail=detail, origin="api", **extra
    )


def seal() -> chain.SealResult:
    result = services.audit_seal(wait=2)
    assert result is not None
    return result


def problems(report) -> list[tuple]:
    return [(p.kind, p.source, p.row_id, p.seq) for p in report.problems]


def seq_of(row) -> int:
    source = "access" if isinstance(row, AccessLog) else "audit"
    return AuditLeaf.objects.get(source=source, row_id=row.pk).seq


@contextmanager
def as_malicious_owner(*tables):
    """The database owner switching the append-only guard of `tables` off for a moment (PostgreSQL:
    ALTER TABLE … DISABLE TRIGGER, which only the owner may run; SQLite: the trigger dropped) to
    change rows with raw SQL, and putting it back."""
    names = [(table, f"{table}_append_only") for table in tables]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # ALTER TABLE waits for no deferred foreign-key check of the test's own inserts.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for table, name in names:
                cursor.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER {name}')
            try:
                yield cursor
            finally:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                for table, name in names:
                    cursor.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER {name}')
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        else:
            saved = []
            for _table, name in names:
                cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = %s", [name])
                saved.append(cursor.fetchone()[0])
                cursor.execute(f"DROP TRIGGER {name}")
            try:
                yield cursor
            finally:
                for sql in saved:
                    cursor.execute(sql)


@pytest.fixture
def sealed(clock, actor, person):
    """Three manual changes and five look-ups, sealed: leaves 0-2 the changes, 3-7 the look-ups."""
    changes = [change(actor, person, reason=f"核实 {i}") for i in range(3)]
    looks = [look(actor, person, why=f"look-up {i}") for i in range(5)]
    result = seal()
    assert result.sealed == {"audit": 3, "access": 5}
    return {"changes": changes, "looks": looks, "result": result}


# --- sealing and verifying -------------------------------------------------------------------------


def test_every_column_of_every_sealed_table_is_in_its_canonical_bytes():
    for source in chain.SOURCES.values():
        assert set(source.columns) == {f.attname for f in source.model._meta.concrete_fields}, source.name
    assert {"audit", "access"} <= set(chain.SOURCES)


def test_rows_are_sealed_source_by_source_in_id_order_and_verify(sealed):
    leaves = list(AuditLeaf.objects.order_by("seq").values_list("seq", "source", "row_id"))
    expected = [("audit", c.pk) for c in sealed["changes"]] + [("access", a.pk) for a in sealed["looks"]]
    assert [(source, row_id) for _seq, source, row_id in leaves] == expected
    assert [seq for seq, _s, _r in leaves] == list(range(8))
    checkpoint = AuditCheckpoint.objects.get()
    hashes = [bytes.fromhex(h) for h in AuditLeaf.objects.order_by("seq").values_list("leaf_hash", flat=True)]
    assert (checkpoint.size, checkpoint.root) == (8, merkle.tree_root(hashes).hex())
    assert checkpoint.kid == signing.key_id(signing.signing_key().public_key())
    report = chain.verify()
    assert report.ok, problems(report)
    assert (report.leaves, report.present, report.purged, report.checkpoints_checked) == (8, 8, 0, 1)


def test_a_leaf_records_the_rows_digest_of_its_canonical_bytes(sealed):
    row = sealed["looks"][0]
    leaf = AuditLeaf.objects.get(source="access", row_id=row.pk)
    canonical = {
        "actor_id": row.actor_id,
        "at": "2022-03-01T01:00:00.000000Z",  # 09:00 in Beijing, in UTC
        "id": row.pk,
        "person_id": row.person_id,
        "source": "access",
        "via": "api",
        "why": "look-up 0",
    }
    assert (
        chain.row_bytes(chain.SOURCES["access"], AccessLog.objects.filter(pk=row.pk).values()[0])
        == json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    )
    assert leaf.digest == chain.row_digest(chain.SOURCES["access"], AccessLog.objects.filter(pk=row.pk).values()[0])
    entry = json.dumps(
        {"at": "2022-03-01T01:00:00.000000Z", "digest": leaf.digest, "id": row.pk, "source": "access"},
        sort_keys=True,
        separators=(",", ":"),
    ).encode()
    assert leaf.leaf_hash == merkle.leaf_hash(entry).hex()


def test_a_second_seal_appends_and_the_first_checkpoint_is_a_prefix_of_the_second(sealed, actor, person):
    first = chain.Checkpoint.of(AuditCheckpoint.objects.get())
    more = [look(actor, person, why="later"), change(actor, person)]
    result = seal()
    assert result.sealed == {"audit": 1, "access": 1} and result.size == 10
    assert AuditLeaf.objects.get(seq=8).row_id == more[1].pk  # the change first: sources in order
    assert AuditLeaf.objects.get(seq=9).row_id == more[0].pk
    report = chain.verify(others=[first])
    assert report.ok, problems(report)
    assert report.checkpoints_checked == 2  # both stored (the one the auditor kept is the first)
    hashes = [bytes.fromhex(h) for h in AuditLeaf.objects.order_by("seq").values_list("leaf_hash", flat=True)]
    assert merkle.tree_root(hashes[:8]).hex() == first.root


def test_nothing_new_writes_no_checkpoint_until_the_heartbeat(sealed, clock):
    assert seal().checkpoint is None
    clock.shift(chain.HEARTBEAT - dt.timedelta(seconds=1))
    assert seal().checkpoint is None
    clock.shift(dt.timedelta(seconds=1))
    heartbeat = seal().checkpoint
    assert heartbeat is not None and heartbeat.size == 8
    assert AuditCheckpoint.objects.count() == 2


def test_an_empty_audit_gets_a_checkpoint_of_the_empty_tree(db, clock):
    result = seal()
    assert (result.size, result.root) == (0, merkle.EMPTY_ROOT.hex())
    assert chain.verify().ok


def test_a_seal_that_stopped_half_way_is_carried_on(sealed, actor, person):
    looks = [look(actor, person, why=f"batch {i}") for i in range(5)]
    partial = services.audit_seal(wait=2, max_rows=2)
    assert partial.sealed == {"access": 2}
    with as_malicious_owner("audit_auditcheckpoint") as cursor:  # as if the run died before signing
        cursor.execute("DELETE FROM audit_auditcheckpoint WHERE size = 10")
    result = seal()
    assert result.sealed == {"access": 3} and result.size == 13
    assert list(AuditLeaf.objects.filter(seq__gte=8).values_list("row_id", flat=True)) == [a.pk for a in looks]
    assert chain.verify().ok


# --- tampering, as the database owner ---------------------------------------------------------------


def test_a_row_updated_is_reported_exactly(sealed):
    row = sealed["looks"][2]
    with as_malicious_owner("audit_accesslog") as cursor:
        cursor.execute("UPDATE audit_accesslog SET why = 'nothing to see' WHERE id = %s", [row.pk])
    report = chain.verify()
    assert not report.ok
    assert problems(report) == [("changed", "access", row.pk, seq_of(row))]
    assert seq_of(row) == 5


def test_a_change_to_any_column_is_reported(sealed):
    event = sealed["changes"][1]
    with as_malicious_owner("audit_auditevent") as cursor:
        cursor.execute("""UPDATE audit_auditevent SET detail = '{"popups": [4]}' WHERE id = %s""", [event.pk])
    assert problems(chain.verify()) == [("changed", "audit", event.pk, 1)]
    with as_malicious_owner("audit_auditevent") as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET detail = %s, at = %s WHERE id = %s",
            [json.dumps(event.detail), NOW - dt.timedelta(microseconds=1), event.pk],
        )
    assert problems(chain.verify()) == [("changed", "audit", event.pk, 1)]


def test_a_row_deleted_is_reported_removed(sealed):
    row = sealed["looks"][0]
    with as_malicious_owner("audit_accesslog") as cursor:
        cursor.execute("DELETE FROM audit_accesslog WHERE id = %s", [row.pk])
    report = chain.verify()
    assert problems(report) == [("removed", "access", row.pk, 3)]
    assert report.present == 7


def test_a_row_inserted_in_the_middle_is_reported(clock, actor, person):
    first = look(actor, person)
    last = look(actor, person, id=first.pk + 10)  # ids 2-10 were drawn and rolled back
    seal()
    forged = first.pk + 4
    with as_malicious_owner("audit_accesslog") as cursor:
        cursor.execute(
            "INSERT INTO audit_accesslog (id, actor_id, person_id, at, why, via) VALUES (%s, %s, %s, %s, 'forged', 'api')",
            [forged, actor.pk, person.pk, NOW],
        )
    report = chain.verify()
    assert problems(report) == [("inserted", "access", forged, None)]
    # A row above the sealed head is not an insertion: it is sealed by the next run.
    look(actor, person, id=last.pk + 1)
    assert problems(chain.verify()) == [("inserted", "access", forged, None)]


def test_two_rows_swapped_are_both_reported(sealed):
    a, b = sealed["looks"][1], sealed["looks"][3]
    with as_malicious_owner("audit_accesslog") as cursor:
        cursor.execute("UPDATE audit_accesslog SET why = 'swap' WHERE id = %s", [a.pk])
        cursor.execute("UPDATE audit_accesslog SET why = %s WHERE id = %s", [a.why, b.pk])
        cursor.execute("UPDATE audit_accesslog SET why = %s WHERE id = %s", [b.why, a.pk])
    assert problems(chain.verify()) == [("changed", "access", a.pk, 4), ("changed", "access", b.pk, 6)]


def test_two_leaves_swapped_are_reported(sealed):
    with as_malicious_owner("audit_auditleaf") as cursor:
        cursor.execute("UPDATE audit_auditleaf SET seq = -1 WHERE seq = 4")
        cursor.execute("UPDATE audit_auditleaf SET seq = 4 WHERE seq = 6")
        cursor.execute("UPDATE audit_auditleaf SET seq = 6 WHERE seq = -1")
    report = chain.verify()
    kinds = [p.kind for p in report.problems]
    assert ("reordered", "access", sealed["looks"][1].pk, 6) in problems(report)
    assert "root_mismatch" in kinds and not report.ok


def test_a_row_changed_with_its_leaf_breaks_the_signed_root(sealed):
    row = sealed["looks"][4]
    source = chain.SOURCES["access"]
    with as_malicious_owner("audit_accesslog", "audit_auditleaf") as cursor:
        cursor.execute("UPDATE audit_accesslog SET why = 'rewritten' WHERE id = %s", [row.pk])
        digest = chain.row_digest(source, AccessLog.objects.filter(pk=row.pk).values()[0])
        hashed = chain.leaf_hash(source="access", row_id=row.pk, at=row.at, digest=digest).hex()
        cursor.execute("UPDATE audit_auditleaf SET digest = %s, leaf_hash = %s WHERE seq = 7", [digest, hashed])
    report = chain.verify()
    assert [p.kind for p in report.problems] == ["root_mismatch"]


def test_a_log_rebuilt_and_signed_again_does_not_match_a_checkpoint_an_auditor_kept(sealed):
    kept = chain.Checkpoint.of(AuditCheckpoint.objects.get())
    row = sealed["looks"][0]
    source = chain.SOURCES["access"]
    with as_malicious_owner("audit_accesslog", "audit_auditleaf", "audit_auditcheckpoint") as cursor:
        cursor.execute("UPDATE audit_accesslog SET why = 'rewritten' WHERE id = %s", [row.pk])
        digest = chain.row_digest(source, AccessLog.objects.filter(pk=row.pk).values()[0])
        hashed = chain.leaf_hash(source="access", row_id=row.pk, at=row.at, digest=digest).hex()
        cursor.execute("UPDATE audit_auditleaf SET digest = %s, leaf_hash = %s WHERE seq = 3", [digest, hashed])
        cursor.execute("DELETE FROM audit_auditcheckpoint")
    seal()  # with the signing key: a new checkpoint over the forged leaf
    assert chain.verify().ok, "against what is stored the forgery holds"
    report = chain.verify(others=[kept])
    assert [p.kind for p in report.problems] == ["root_mismatch"]
    assert "size 8" in report.problems[0].detail


def test_a_checkpoint_changed_or_signed_by_another_key_is_refused(sealed):
    stored = chain.Checkpoint.of(AuditCheckpoint.objects.get())
    bigger = chain.Checkpoint(stored.size, "0" * 64, stored.at, stored.signature, stored.kid)
    assert "bad_signature" in [p.kind for p in chain.verify(checkpoint=bigger).problems]
    other = Ed25519PrivateKey.generate()
    foreign = chain.Checkpoint(
        stored.size,
        stored.root,
        stored.at,
        signing.checkpoint_sign(other, size=stored.size, root=stored.root, at=stored.at),
        signing.key_id(other.public_key()),
    )
    assert [p.kind for p in chain.verify(checkpoint=foreign).problems] == ["unknown_key"]


def test_a_retired_key_still_verifies_its_checkpoints(sealed, settings):
    old = signing.signing_key()
    settings.AUDIT_OLD_PUBLIC_KEYS = [signing.public_b64(old.public_key())]
    settings.AUDIT_SIGNING_KEY = base64.b64encode(b"\x07" * 32).decode()
    seal_after = services.audit_seal(wait=2)
    assert seal_after.checkpoint is None  # nothing new
    assert chain.verify().ok
    settings.AUDIT_OLD_PUBLIC_KEYS = []
    assert [p.kind for p in chain.verify().problems] == ["unknown_key"]


# --- the retention purge ------------------------------------------------------------------------------


@pytest.fixture
def aged(clock, actor, person):
    """Three look-ups 200 days old (past the 180 of the access log), two recent, a change; sealed."""
    old = [look(actor, person, why=f"old {i}", at=NOW - 200 * DAY) for i in range(3)]
    recent = [look(actor, person, why=f"recent {i}", at=NOW - 10 * DAY) for i in range(2)]
    change(actor, person)
    seal()
    return {"old": old, "recent": recent}


def test_the_purge_keeps_the_leaves_and_the_audit_verifies(aged):
    assert purge_access_log(now=NOW) == 3
    assert not AccessLog.objects.filter(pk__in=[r.pk for r in aged["old"]]).exists()
    assert AuditLeafPurge.objects.count() == 3
    report = chain.verify()
    assert report.ok, problems(report)
    assert (report.leaves, report.present, report.purged) == (6, 3, 3)
    seal()  # the purge's own audit event is sealed after it
    assert chain.verify().ok


def test_a_row_removed_by_anyone_but_the_purge_is_reported_even_when_old(aged):
    old, recent = aged["old"][0], aged["recent"][0]
    with as_malicious_owner("audit_accesslog") as cursor:
        cursor.execute("DELETE FROM audit_accesslog WHERE id IN (%s, %s)", [old.pk, recent.pk])
    assert problems(chain.verify()) == [("removed", "access", old.pk, 1), ("removed", "access", recent.pk, 4)]


def test_a_forged_purge_mark_does_not_hide_a_recent_row_removed(aged, clock):
    recent = aged["recent"][1]
    AuditLeafPurge.objects.create(leaf_id=seq_of(recent), purged_at=NOW)
    with as_malicious_owner("audit_accesslog") as cursor:
        cursor.execute("DELETE FROM audit_accesslog WHERE id = %s", [recent.pk])
    assert problems(chain.verify()) == [("removed", "access", recent.pk, 5)]


def test_a_purge_mark_in_the_future_hides_nothing(aged):
    old = aged["old"][2]
    AuditLeafPurge.objects.create(leaf_id=seq_of(old), purged_at=chain._db_now() + 400 * DAY)
    with as_malicious_owner("audit_accesslog") as cursor:
        cursor.execute("DELETE FROM audit_accesslog WHERE id = %s", [old.pk])
    assert problems(chain.verify()) == [("removed", "access", old.pk, 3)]


# --- the command --------------------------------------------------------------------------------------


def test_audit_verify_says_ok_or_names_the_first_row_and_fails(sealed):
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    assert out.getvalue().startswith("OK: 8 leaves")
    row = sealed["looks"][3]
    with as_malicious_owner("audit_accesslog") as cursor:
        cursor.execute("UPDATE audit_accesslog SET via = 'admin' WHERE id = %s", [row.pk])
    out = io.StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("audit_verify", stdout=out)
    assert f"first changed: access id {row.pk}, seq 6" in str(failed.value)
    assert out.getvalue().splitlines() == [f"changed: access id {row.pk}, seq 6"]


def test_audit_verify_checks_the_checkpoints_an_auditor_kept(sealed, actor, person, tmp_path):
    kept = tmp_path / "kept.json"
    kept.write_text(json.dumps(chain.checkpoints_published()))
    look(actor, person)
    out = io.StringIO()
    call_command("audit_verify", "--seal", "--checkpoint", str(kept), "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert report["ok"] and report["checkpoint"]["size"] == 8 and report["leaves"] == 8
    listed = chain.checkpoints_published()
    assert [cp["size"] for cp in listed] == [9, 8]
    newest = tmp_path / "newest.json"
    newest.write_text(json.dumps(listed[0]))
    out = io.StringIO()
    call_command("audit_verify", "--checkpoint", str(newest), "--checkpoint", str(kept), stdout=out)
    assert "match the checkpoint of size 9" in out.getvalue()
    forged = dict(listed[0], root="f" * 64)
    newest.write_text(json.dumps(forged))
    with pytest.raises(CommandError, match="bad_signature"):
        call_command("audit_verify", "--checkpoint", str(newest), stdout=io.StringIO())
    with pytest.raises(CommandError, match="No stored checkpoint of size 5"):
        call_command("audit_verify", "--size", "5", stdout=io.StringIO())


def test_the_sealer_is_a_beat_task():
    assert settings.CELERY_BEAT_SCHEDULE["audit-seal"]["task"] == "apps.audit.tasks.seal"
    assert settings.CELERY_BEAT_SCHEDULE["audit-seal"]["schedule"] <= 60


def test_the_task_seals(clock, actor, person):
    look(actor, person)
    assert tasks.seal() == 1
    assert tasks.seal() == 0


# --- PostgreSQL: the order rule, the purge function, the lock -------------------------------------------


def _other_connection() -> psycopg.Connection:
    db = connection.settings_dict
    params = {"dbname": db["NAME"], "user": db["USER"], "password": db["PASSWORD"], "host": db["HOST"]}
    params["port"] = db["PORT"]
    return psycopg.connect(**{k: v for k, v in params.items() if v})


@pytest.fixture
def committed(transactional_db):
    """A user and a person committed, so another connection may refer to them."""
    user = get_user_model().objects.create_user("chain_committed", password="x")
    person = Person.objects.create(
        id_type="resident_id", id_hash="2" * 64, id_encrypted="x", display_id="11**02", name="韩梅梅"
    )
    return user, person


@postgres_only
@pytest.mark.parametrize("outcome", ["commit", "rollback"])
def test_a_row_committed_after_a_higher_one_is_sealed_before_it(committed, outcome):
    user, person = committed
    with _other_connection() as other:
        late = other.execute(
            "INSERT INTO audit_accesslog (actor_id, person_id, at, why, via) "
            "VALUES (%s, %s, now(), 'late', 'api') RETURNING id",
            [user.pk, person.pk],
        ).fetchone()[0]
        early = look(user, person, why="early", at=dt.datetime.now(dt.UTC))  # committed at once
        assert early.pk > late
        change(user, person)
        waiting = services.audit_seal(wait=0.3)
        assert waiting.waiting == {"access": 1}, "the transaction that drew the lower id is still open"
        assert waiting.sealed == {"audit": 1}
        assert not AuditLeaf.objects.filter(source="access").exists()
        getattr(other, outcome)()
    result = services.audit_seal(wait=2)
    assert result.waiting == {}
    sealed = list(AuditLeaf.objects.filter(source="access").order_by("seq").values_list("row_id", flat=True))
    assert sealed == ([late, early.pk] if outcome == "commit" else [early.pk])
    report = chain.verify()
    assert report.ok, problems(report)


@postgres_only
def test_writers_of_other_tables_do_not_hold_the_sealer(committed):
    user, person = committed
    with _other_connection() as other:
        other.execute("CREATE TEMPORARY TABLE unrelated (x int)")
        other.execute("INSERT INTO unrelated VALUES (1)")  # an open transaction writing elsewhere
        look(user, person, at=dt.datetime.now(dt.UTC))
        result = services.audit_seal(wait=0.3)
        assert result.waiting == {} and result.sealed == {"access": 1}
        other.rollback()


@postgres_only
def test_the_purge_function_marks_the_leaves_it_purges(aged):
    ids = [r.pk for r in aged["old"] + aged["recent"]]
    with connection.cursor() as cursor:
        cursor.execute("SELECT healthkit_purge_access_log(%s::bigint[], %s)", [ids, NOW - 180 * DAY])
        assert cursor.fetchone()[0] == 3
        cursor.execute("SELECT count(*), bool_and(purged_at > now() - interval '1 minute') FROM audit_auditleafpurge")
        assert cursor.fetchone() == (3, True)
    assert sorted(AuditLeafPurge.objects.values_list("leaf__row_id", flat=True)) == sorted(r.pk for r in aged["old"])
    assert chain.verify().ok


@postgres_only
def test_two_sealers_never_overlap(clock, actor, person):
    look(actor, person)
    with _other_connection() as other:
        other.execute("SELECT pg_advisory_lock(%s)", [AUDIT_SEAL_LOCK])
        assert services.audit_seal(wait=0) is None
        assert tasks.seal() is None
        with pytest.raises(CommandError, match="Another sealer"):
            call_command("audit_seal", stdout=io.StringIO())
        other.execute("SELECT pg_advisory_unlock(%s)", [AUDIT_SEAL_LOCK])
    assert tasks.seal() == 1
