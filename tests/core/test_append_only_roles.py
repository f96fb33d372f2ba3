"""Append-only for real (issue 12, finding 3): the audit, releases, appeal events, status
transitions and every row history refuse UPDATE and DELETE to the application's database role
whatever SQL it sends, and to the migration owner through the ORM or raw SQL; the retention purge
gets past the guard only through its SECURITY DEFINER functions, which never touch rows younger
than the retention periods (apps.core.db, apps.retention.db, README: Database roles).

On PostgreSQL these tests run as both roles: `default` is the owner (config/settings/test.py), and
the application role is DATABASE_URL's role when DATABASE_OWNER_URL is set (`.ci/run`), else a role
created for the session and given its privileges as `migrate` gives them."""

import datetime as dt
import os
import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import environ
import psycopg
import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DatabaseError, IntegrityError, connection, models, transaction
from django.utils import timezone
from psycopg import sql
from simple_history.models import HistoricalChanges

from apps.appeals.models import Appeal, AppealEvent
from apps.audit.models import AccessLog, AuditEvent
from apps.core.db import app_role_sync, guarded_tables
from apps.core.models import AppendOnlyError, AppendOnlyModel
from apps.evidence.models import Stay
from apps.people.models import Person, Phone
from apps.status.models import Release, StatusTransition

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = os.environ.get("HEALTHKIT_REQUIRE_SERVICES") == "1"
IS_POSTGRES = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
postgres_only = pytest.mark.skipif(
    not IS_POSTGRES and not REQUIRED, reason="PostgreSQL only: database roles, privileges, SECURITY DEFINER functions"
)
PRIVILEGE = "42501"  # insufficient_privilege: permission denied, must be owner
GUARD = "23000"  # integrity_constraint_violation: the append-only trigger
DAY = dt.timedelta(days=1)

# Whatever a purge may blank, by table (the rest of every guarded table is never changed).
ERASABLE = {
    "evidence_historicalstay": ("phone_hash", "person_id"),
    "people_historicalphone": ("number_encrypted", "number_hash"),
    "appeals_historicalappeal": ("caller_phone_encrypted", "caller_phone_display"),
}


def guarded_models() -> list[type[models.Model]]:
    """Every append-only model and every row history: what must be guarded."""
    found = {
        model
        for model in apps.get_models()
        if issubclass(model, AppendOnlyModel | HistoricalChanges) and not model._meta.proxy
    }
    return sorted(found, key=lambda m: m._meta.db_table)


GUARDED = guarded_models()
TABLES = [m._meta.db_table for m in GUARDED]


def test_the_guarded_set_is_what_the_spec_calls_append_only():
    assert {
        "audit_auditevent",
        "audit_accesslog",
        "status_release",
        "status_releaseattachment",
        "status_statustransition",
        "appeals_appealevent",
        "appeals_historicalappeal",
        "people_historicalperson",
        "people_historicalphone",
        "evidence_historicalstay",
        "accounts_historicaluser",
    } <= set(TABLES)
    assert len(TABLES) >= 25


# --- the application role ---------------------------------------------------------------------------


@dataclass
class Role:
    name: str
    connect: dict  # psycopg.connect keyword arguments, to the test database
    settings: dict  # the same, as Django settings_dict keys


@pytest.fixture(scope="session")
def app_role(django_db_setup, django_db_blocker) -> Role:
    """The application role, connected to the test database. With DATABASE_OWNER_URL set it is
    DATABASE_URL's role, which the migrations granted; it must exist (`.ci/run` creates it). Else
    a role of this test database's own is created and granted as `migrate` would grant it."""
    if connection.vendor != "postgresql":
        pytest.fail("the database roles need PostgreSQL (DATABASE_URL=postgres://…)")
    with django_db_blocker.unblock():
        db = connection.settings_dict
        owner = db["USER"]
        if settings.DATABASE_APP_URL:
            url = environ.Env.db_url_config(settings.DATABASE_APP_URL)
            name, password = url["USER"], url.get("PASSWORD") or ""
            host, port = url.get("HOST") or db["HOST"], url.get("PORT") or db["PORT"]
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name])
                if cursor.fetchone() is None:
                    pytest.fail(
                        f"DATABASE_URL's role {name} does not exist (.ci/run creates it; README: Database roles)"
                    )
            assert name != owner, "DATABASE_URL and DATABASE_OWNER_URL must name two different roles"
            assert name == settings.DATABASE_APP_ROLE
        else:
            name, password = f"{db['NAME']}_app"[:63], secrets.token_hex(16)
            host, port = db["HOST"], db["PORT"]
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name])
                    if cursor.fetchone() is None:
                        cursor.execute(sql.SQL("CREATE ROLE {}").format(sql.Identifier(name)).as_string(None))
                    cursor.execute(
                        sql.SQL("ALTER ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {}")
                        .format(sql.Identifier(name), sql.Literal(password))
                        .as_string(None)
                    )
            except DatabaseError as error:
                pytest.fail(f"cannot create a database role for the tests as {owner}: {error}")
            assert app_role_sync(connection, name), "the privileges were granted"
    connect = {"user": name, "password": password, "dbname": db["NAME"], "host": host or None, "port": port or None}
    return Role(
        name=name,
        connect={k: v for k, v in connect.items() if v},
        settings={"USER": name, "PASSWORD": password, "HOST": host, "PORT": port},
    )


@pytest.fixture(scope="module")
def app_db(app_role):
    """A connection as the application role (autocommit: every statement its own transaction)."""
    with psycopg.connect(**app_role.connect, autocommit=True) as conn:
        yield conn


def refused(conn, *statements, sqlstates=(PRIVILEGE,)) -> psycopg.Error:
    """Run `statements` in one transaction as `conn`'s role; it must fail with one of `sqlstates`."""
    with pytest.raises(psycopg.Error) as caught, conn.transaction():
        for statement in statements:
            conn.execute(statement)
    assert caught.value.sqlstate in sqlstates, f"{statements}: {caught.value.sqlstate} {caught.value}"
    return caught.value


def _column(table: str) -> str:
    """A column of `table` other than its primary key (what an UPDATE would change)."""
    model = next(m for m in GUARDED if m._meta.db_table == table)
    return next(f.column for f in model._meta.concrete_fields if not f.primary_key)


@postgres_only
def test_the_app_role_may_read_and_write_rows_and_nothing_else(db, app_role):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        owner = cursor.fetchone()[0]
        cursor.execute(
            "SELECT c.relname, pg_get_userbyid(c.relowner),"
            " has_table_privilege(%(r)s, c.oid, 'SELECT'), has_table_privilege(%(r)s, c.oid, 'INSERT'),"
            " has_table_privilege(%(r)s, c.oid, 'UPDATE'), has_table_privilege(%(r)s, c.oid, 'DELETE'),"
            " has_table_privilege(%(r)s, c.oid, 'TRUNCATE'), has_table_privilege(%(r)s, c.oid, 'REFERENCES'),"
            " has_table_privilege(%(r)s, c.oid, 'TRIGGER')"
            " FROM pg_class c WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace",
            {"r": app_role.name},
        )
        tables = {row[0]: row[1:] for row in cursor.fetchall()}
        cursor.execute(
            "SELECT bool_and(has_sequence_privilege(%s, c.oid, 'USAGE')) FROM pg_class c"
            " WHERE c.relkind = 'S' AND c.relnamespace = current_schema()::regnamespace",
            [app_role.name],
        )
        sequences = cursor.fetchone()[0]
        cursor.execute(
            "SELECT has_column_privilege(%s, 'status_release', 'status_after', 'UPDATE'),"
            " has_column_privilege(%s, 'status_release', 'reason', 'UPDATE')",
            [app_role.name, app_role.name],
        )
        fill_once = cursor.fetchone()
        cursor.execute(
            "SELECT array_agg(DISTINCT d.defaclobjtype) FROM pg_default_acl d, aclexplode(d.defaclacl) a"
            " WHERE a.grantee = %s::regrole",
            [app_role.name],
        )
        defaults = set(cursor.fetchone()[0] or [])
    assert len(tables) > 60
    for table, (table_owner, select, insert, update, delete, truncate, references, trigger) in tables.items():
        assert table_owner == owner != app_role.name, table
        assert select, table
        assert not (truncate or references or trigger), f"{table}: TRUNCATE, REFERENCES or TRIGGER granted"
        if table in TABLES or table == "django_migrations":
            assert not (update or delete), f"{table} is guarded: no UPDATE or DELETE for the app role"
        else:
            assert insert and update and delete, f"{table}: the app role writes its rows"
    assert set(TABLES) <= set(tables)
    assert sequences, "USAGE on every sequence"
    assert fill_once == (True, False), "a release's status after may be filled, nothing else of it changed"
    assert defaults == {"r", "S"}, "tables and sequences created later are granted too"


@postgres_only
@pytest.mark.parametrize("table", TABLES)
def test_the_app_role_cannot_change_remove_or_empty_rows_of(table, db, app_db):
    column = _column(table)
    refused(app_db, f'UPDATE "{table}" SET "{column}" = "{column}"')
    refused(app_db, f'DELETE FROM "{table}"')
    refused(app_db, f'TRUNCATE "{table}"')
    refused(app_db, f'TRUNCATE "{table}" CASCADE')
    # The old bypass is gone, and the purge functions' setting gives the app role nothing.
    for setting in ("healthkit.retention_purge", "healthkit.purging"):
        refused(app_db, f"SET LOCAL {setting} = 'on'", f'DELETE FROM "{table}"')
    for erasable in ERASABLE.get(table, ()):
        refused(app_db, "SET LOCAL healthkit.purging = 'on'", f'UPDATE "{table}" SET "{erasable}" = NULL')


@postgres_only
@pytest.mark.parametrize("table", TABLES)
def test_the_app_role_cannot_disable_drop_or_bypass_the_guard_of(table, db, app_db, app_role):
    trigger = f"{table}_append_only"
    refused(app_db, f'ALTER TABLE "{table}" DISABLE TRIGGER {trigger}')
    refused(app_db, f'ALTER TABLE "{table}" DISABLE TRIGGER ALL')
    refused(app_db, f'DROP TRIGGER {trigger} ON "{table}"')
    refused(app_db, f'ALTER TRIGGER {trigger} ON "{table}" RENAME TO gone')
    refused(
        app_db,
        f'CREATE TRIGGER sneak BEFORE INSERT ON "{table}" FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()',
    )
    refused(app_db, f'CREATE RULE sneak AS ON DELETE TO "{table}" DO INSTEAD NOTHING')
    refused(app_db, f'ALTER TABLE "{table}" OWNER TO "{app_role.name}"')
    refused(app_db, f'ALTER TABLE "{table}" RENAME TO "{table}_old"')
    refused(app_db, f'DROP TABLE "{table}"')


@postgres_only
def test_the_app_role_cannot_replace_the_functions_or_switch_triggers_off(db, app_db, app_role):
    replace = "CREATE OR REPLACE FUNCTION {} RETURNS {} LANGUAGE plpgsql AS $$ BEGIN RETURN {}; END $$"
    refused(app_db, replace.format("healthkit_append_only()", "trigger", "NEW"))
    refused(app_db, replace.format("healthkit_purge_access_log(bigint[], timestamptz)", "integer", "0"))
    refused(app_db, "DROP FUNCTION healthkit_append_only() CASCADE")
    refused(app_db, "ALTER FUNCTION healthkit_purge_access_log(bigint[], timestamptz) SECURITY INVOKER")
    refused(app_db, "ALTER FUNCTION healthkit_purge_access_log(bigint[], timestamptz) RESET ALL")
    refused(app_db, "ALTER FUNCTION healthkit_append_only() OWNER TO CURRENT_USER")
    # Replica mode would skip every ordinary trigger: only a superuser may set it.
    refused(app_db, "SET session_replication_role = replica")
    refused(app_db, "SET LOCAL session_replication_role = replica")
    refused(app_db, f'ALTER ROLE "{app_role.name}" SUPERUSER')
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        refused(app_db, f'SET ROLE "{cursor.fetchone()[0]}"')
    if app_db.info.server_version >= 150000:  # PostgreSQL 15: nobody but the owner creates in public
        refused(app_db, replace.format("public.healthkit_append_only_copy()", "trigger", "NEW"))


@postgres_only
def test_the_purge_functions_run_as_the_owner_with_a_fixed_search_path(db, app_role):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.proname, p.prosecdef, pg_get_userbyid(p.proowner), p.proconfig,"
            " has_function_privilege('public', p.oid, 'EXECUTE'), has_function_privilege(%s, p.oid, 'EXECUTE')"
            " FROM pg_proc p WHERE p.proname LIKE 'healthkit\\_%%' AND p.pronamespace = current_schema()::regnamespace",
            [app_role.name],
        )
        functions = {row[0]: row[1:] for row in cursor.fetchall()}
        cursor.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'audit_accesslog'")
        owner = cursor.fetchone()[0]
    purges = {name: v for name, v in functions.items() if name != "healthkit_append_only"}
    assert set(purges) == {
        "healthkit_purge_access_log",
        "healthkit_purge_stay_history",
        "healthkit_erase_phone_history",
        "healthkit_erase_appeal_history",
    }
    for name, (definer, function_owner, config, public, app) in purges.items():
        assert definer and function_owner == owner, name
        path = next(c for c in config if c.startswith("search_path="))
        assert path.startswith("search_path=pg_catalog, ") and path.endswith(", pg_temp"), (name, path)
        assert not public and app, f"{name}: only the application role may execute it"
    assert functions["healthkit_append_only"][0] is False, "the trigger function runs as whoever changes a row"


# --- rows as they are committed ----------------------------------------------------------------------


def _now():
    return timezone.now()


def _person(n: int) -> Person:
    return Person.objects.create(
        id_type="resident_id", id_hash=f"{n:064d}", id_encrypted="x", display_id="11**01", name="李雷"
    )


@pytest.fixture
def committed(transactional_db):
    """Rows of the audit, a release, an appeal with its event, a transition and their histories,
    committed (the application role's connection sees them); emptied by the owner's flush."""
    t = _now()
    user = get_user_model().objects.create_user("roles_actor", password="x")
    person = _person(1)
    appeal = Appeal.objects.create(
        tracking_number="R-1",
        person=person,
        channel="12345",
        category="other",
        description="误伤",
        due_at=t + DAY,
        opened_by=user,
        caller_phone_display="138****0000",
    )
    release = Release.objects.create(
        person=person,
        popup_number=3,
        actor=user,
        reason="核实",
        itinerary_verified=True,
        nat_negative=True,
        commitment_signed=True,
        evidence_watermark=0,
        status_before={},
        status_after={"state": "green"},
        created_at=t,
    )
    return {
        "user": user,
        "person": person,
        "appeal": appeal,
        "release": release,
        "rows": {
            "audit_auditevent": AuditEvent.objects.create(kind="popup.released", person=person, at=t).pk,
            "audit_accesslog": AccessLog.objects.create(actor=user, person=person, at=t, why="look").pk,
            "appeals_appealevent": AppealEvent.objects.create(
                appeal=appeal, to_status="open", actor=user, reason="opened", at=t
            ).pk,
            "status_statustransition": StatusTransition.objects.create(
                person=person, from_state="green", to_state="yellow", at=t
            ).pk,
            "status_release": release.pk,
        },
    }


def _snapshot(tables) -> dict:
    snapshot = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'SELECT to_jsonb(t) FROM "{table}" t ORDER BY to_jsonb(t)::text')
            snapshot[table] = [row[0] for row in cursor.fetchall()]
    return snapshot


@postgres_only
def test_committed_rows_survive_every_attempt_of_the_app_role(committed, app_db):
    history = ["people_historicalperson", "appeals_historicalappeal", "accounts_historicaluser"]
    tables = [*committed["rows"], *history]
    before = _snapshot(tables)
    assert all(before.values()), "every table has its row"
    for table in tables:
        column = _column(table)
        refused(app_db, f'UPDATE "{table}" SET "{column}" = "{column}"')
        refused(app_db, f'DELETE FROM "{table}"')
        refused(app_db, f'TRUNCATE "{table}"')
        refused(app_db, "SET LOCAL healthkit.retention_purge = 'on'", f'DELETE FROM "{table}"')
    # Through a purge function, with a cutoff in the future: the rows are minutes old.
    ids = [committed["rows"]["audit_accesslog"]]
    assert app_db.execute(
        "SELECT healthkit_purge_access_log(%s::bigint[], now() + interval '1 day')", [ids]
    ).fetchone() == (0,)
    assert _snapshot(tables) == before


@postgres_only
def test_the_app_role_inserts_and_reads_and_fills_a_release_once(committed, app_db):
    user, person = committed["user"].pk, committed["person"].pk
    with app_db.transaction():
        app_db.execute(
            "INSERT INTO audit_auditevent (kind, actor_id, person_id, at, reason, detail, origin)"
            " VALUES ('record.corrected', %s, %s, now(), 'why', '{}', 'api')",
            [user, person],
        )
        app_db.execute(
            "INSERT INTO audit_accesslog (actor_id, person_id, at, why, via) VALUES (%s, %s, now(), 'look', 'api')",
            [user, person],
        )
        app_db.execute(
            "INSERT INTO appeals_appealevent (appeal_id, from_status, to_status, actor_id, reason, at)"
            " VALUES (%s, 'open', 'routed', %s, 'routed', now())",
            [committed["appeal"].pk, user],
        )
        release = app_db.execute(
            "INSERT INTO status_release (person_id, popup_number, actor_id, reason, itinerary_verified,"
            " nat_negative, commitment_signed, evidence_watermark, status_before, status_after, created_at)"
            " VALUES (%s, 3, %s, 'why', true, true, true, 0, '{}', '{}', now()) RETURNING id",
            [person, user],
        ).fetchone()[0]
        # Filled once, in the transaction that creates it (as popup_release does).
        app_db.execute('UPDATE status_release SET status_after = \'{"state": "green"}\' WHERE id = %s', [release])
    refused(app_db, f"UPDATE status_release SET status_after = '{{}}' WHERE id = {release}", sqlstates=(GUARD,))
    refused(app_db, f"UPDATE status_release SET reason = 'changed' WHERE id = {release}")
    counts = app_db.execute(
        "SELECT (SELECT count(*) FROM audit_auditevent), (SELECT count(*) FROM audit_accesslog),"
        " (SELECT count(*) FROM appeals_appealevent), (SELECT count(*) FROM status_release)"
    ).fetchone()
    assert counts == (2, 2, 2, 2)
    assert Release.objects.get(pk=release).status_after == {"state": "green"}


# --- the purge functions ------------------------------------------------------------------------------


@pytest.fixture
def aged(transactional_db):
    """Rows just past and just inside each retention period, by the database's clock (which is
    what the functions go by), and some that are only minutes old."""
    t = _now()
    user = get_user_model().objects.create_user("roles_looker", password="x")
    person = _person(2)
    access_days = dt.timedelta(days=settings.RETENTION_ACCESS_LOG_DAYS)
    logs = {
        name: AccessLog.objects.create(actor=user, person=person, at=at, why=name).pk
        for name, at in (("past", t - access_days - DAY), ("inside", t - access_days + DAY), ("recent", t))
    }
    margin = dt.timedelta(days=settings.RETENTION_TELECOM_MARGIN_DAYS)
    stays = {}
    for name, departed, source in (
        ("ancient", t - 30 * DAY, "telecom"),  # past the purge's own cutoff too (look-back + margin)
        ("past", t - margin - DAY, "telecom"),
        ("inside", t - margin + DAY, "telecom"),
        ("recent", t, "telecom"),
        ("rail", t - 400 * DAY, "rail"),
    ):
        stays[name] = Stay.objects.create(
            source=source,
            external_id=f"s-{name}",
            person=person,
            phone_hash="h" * 64,
            area_id="110105",
            precision="county",
            arrived_at=departed - DAY,
            departed_at=departed,
            ingested_at=t,
        ).pk
    unbound = dt.timedelta(days=settings.RETENTION_PHONE_UNBOUND_DAYS)
    phones = {
        name: Phone.objects.create(
            person=person,
            number_hash=f"n-{name}",
            number_encrypted="secret",
            display_number="138****0000",
            channel="wechat",
            bound_at=t - 900 * DAY,
            unbound_at=at,
        ).pk
        for name, at in (("past", t - unbound - DAY), ("inside", t - unbound + DAY), ("bound", None))
    }
    personal = dt.timedelta(days=settings.RETENTION_PERSONAL_DATA_DAYS)
    appeals = {
        name: Appeal.objects.create(
            tracking_number=f"P-{name}",
            person=person,
            channel="12345",
            category="other",
            description="误伤",
            due_at=t,
            opened_by=user,
            caller_phone_encrypted="secret",
            caller_phone_display="138****0000",
            status=status,
            resolved_at=at,
        ).pk
        for name, status, at in (
            ("past", "resolved", t - personal - DAY),
            ("inside", "rejected", t - personal + DAY),
            ("open", "open", None),
        )
    }
    return {"logs": logs, "stays": stays, "phones": phones, "appeals": appeals}


def _call(conn, call: str, *args) -> int:
    return conn.execute(f"SELECT {call}", list(args)).fetchone()[0]


@postgres_only
def test_the_purge_functions_change_only_rows_past_retention_whatever_cutoff_the_app_role_passes(
    aged, app_db, app_role
):
    logs, stays, phones, appeals = aged["logs"], aged["stays"], aged["phones"], aged["appeals"]
    future = "now() + interval '10 years'"
    with psycopg.connect(**app_role.connect, autocommit=True) as own:
        # A table of the caller's own, first in its search path, changes nothing: the function's is fixed.
        own.execute("CREATE TEMP TABLE audit_accesslog (id bigint, at timestamptz)")
        own.execute("INSERT INTO audit_accesslog VALUES (%s, now() - interval '10 years')", [logs["recent"]])
        assert _call(own, f"healthkit_purge_access_log(%s::bigint[], {future})", list(logs.values())) == 1
        assert own.execute("SELECT count(*) FROM audit_accesslog").fetchone() == (1,), "its own table untouched"
    assert set(AccessLog.objects.values_list("why", flat=True)) == {"inside", "recent"}

    old = {stays["ancient"], stays["past"]}
    all_stays = list(stays.values())
    assert _call(app_db, f"healthkit_purge_stay_history(%s::bigint[], '{{}}', {future})", all_stays) == 2
    erased = Stay.history.filter(phone_hash="", person__isnull=True).values_list("id", flat=True)
    assert set(erased) == old, "only the telecom stays past the margin have their phone link blanked"
    assert _call(app_db, f"healthkit_purge_stay_history('{{}}', %s::bigint[], {future})", all_stays) == 2
    assert set(Stay.history.values_list("id", flat=True)) == set(all_stays) - old

    assert _call(app_db, f"healthkit_erase_phone_history(%s::bigint[], {future})", list(phones.values())) == 1
    assert set(Phone.history.filter(number_encrypted="", number_hash="").values_list("id", flat=True)) == {
        phones["past"]
    }
    assert _call(app_db, f"healthkit_erase_appeal_history(%s::bigint[], {future})", list(appeals.values())) == 1
    assert set(Appeal.history.filter(caller_phone_display="").values_list("id", flat=True)) == {appeals["past"]}

    # The permission the function gave itself ends with it, inside the caller's transaction too.
    with app_db.transaction():
        _call(app_db, f"healthkit_purge_access_log(%s::bigint[], {future})", list(logs.values()))
        assert app_db.execute("SELECT current_setting('healthkit.purging', true)").fetchone() == ("off",)
    # A cutoff earlier than the rows, or none, changes nothing more.
    assert _call(app_db, "healthkit_purge_access_log(%s::bigint[], '-infinity')", list(logs.values())) == 0
    refused(app_db, f"SELECT healthkit_purge_access_log(ARRAY[{logs['inside']}]::bigint[], NULL)", sqlstates=("P0001",))
    assert AccessLog.objects.count() == 2
    # What the functions kept is as it was: every other column of the history untouched.
    assert Stay.history.get(id=stays["inside"]).phone_hash == "h" * 64


# --- the owner ------------------------------------------------------------------------------------------


def _dummy(field: models.Field, memo: dict):
    """A value the column accepts; a row of its own for a foreign key the database checks."""
    if field.has_default():
        return field.get_default()
    if field.null:
        return None
    if isinstance(field, models.ForeignKey):
        if field.db_constraint:
            target = field.related_model
            if target not in memo:
                memo[target] = _row(target, memo)
            return memo[target].pk
        return "110105" if isinstance(field.target_field, models.CharField) else 1
    if isinstance(field, models.DateTimeField):
        return _now()
    if isinstance(field, models.DateField):
        return _now().date()
    if isinstance(field, models.BooleanField):
        return False
    if isinstance(field, models.IntegerField | models.DecimalField | models.FloatField):
        return 1
    if isinstance(field, models.JSONField):
        return {}
    return "x"


def _row(model, memo: dict | None = None) -> models.Model:
    """A row of `model` with whatever its columns accept (a release's status after filled)."""
    memo = {} if memo is None else memo
    # Every column but an automatic id (a primary key of the row's own, as a leaf's sequence number, is filled).
    values = {f.attname: _dummy(f, memo) for f in model._meta.concrete_fields if not isinstance(f, models.AutoField)}
    if model is Release:
        values["status_after"] = {"state": "green"}
    obj = model(**values)
    obj.save()
    return obj


@postgres_only
@pytest.mark.parametrize("model", GUARDED, ids=TABLES)
def test_as_the_owner_the_trigger_refuses_updates_and_deletes_of(model, db):
    table, pk = model._meta.db_table, model._meta.pk
    obj = _row(model)
    column = _column(table)
    for statement in (
        f'UPDATE "{table}" SET "{column}" = "{column}" WHERE "{pk.column}" = %s',
        f'DELETE FROM "{table}" WHERE "{pk.column}" = %s',
    ):
        for setting in ("", "SET LOCAL healthkit.retention_purge = 'on'"):
            with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
                if setting:
                    cursor.execute(setting)
                cursor.execute(statement, [obj.pk])
    rows = model._default_manager.filter(pk=obj.pk)
    with pytest.raises(IntegrityError), transaction.atomic():  # AppendOnlyError is one, before the database
        rows.update(**{pk.name: obj.pk})
    with pytest.raises(IntegrityError), transaction.atomic():
        rows.delete()
    with pytest.raises(IntegrityError), transaction.atomic():  # the queryset's check skipped: the database
        models.QuerySet.update(rows, **{pk.name: obj.pk})
    with pytest.raises(IntegrityError), transaction.atomic():
        rows._raw_delete(rows.db)
    assert model._default_manager.filter(pk=obj.pk).exists()


@postgres_only
def test_the_owner_may_still_empty_a_guarded_table_as_the_test_runner_does(db):
    """TRUNCATE is no row operation: the flush between transactional tests works, for the owner."""
    _row(AccessLog)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no foreign-key check left pending
        cursor.execute("TRUNCATE audit_accesslog")
    assert not AccessLog.objects.exists()


# --- the ORM (both backends) ------------------------------------------------------------------------------


@pytest.fixture
def appeal_event(db):
    t = _now()
    user = get_user_model().objects.create_user("roles_operator", password="x")
    appeal = Appeal.objects.create(
        tracking_number="O-1",
        person=_person(3),
        channel="12345",
        category="other",
        description="误伤",
        due_at=t,
        opened_by=user,
    )
    return AppealEvent.objects.create(appeal=appeal, to_status="open", actor=user, reason="opened", at=t)


@pytest.mark.parametrize("model", [AppealEvent, StatusTransition, AuditEvent, AccessLog, Release])
def test_append_only_models_refuse_bulk_updates_and_deletes(model):
    assert issubclass(model, AppendOnlyModel)
    with pytest.raises(AppendOnlyError):
        model.objects.update(**{model._meta.pk.name: 1})
    with pytest.raises(AppendOnlyError):
        model.objects.all().delete()


def test_an_appeal_event_is_refused_by_the_orm_and_the_database(appeal_event):
    with pytest.raises(AppendOnlyError):
        AppealEvent.objects.update(reason="changed")
    with pytest.raises(AppendOnlyError):
        AppealEvent.objects.filter(pk=appeal_event.pk).delete()
    appeal_event.reason = "changed"
    with pytest.raises(AppendOnlyError):
        appeal_event.save()
    with pytest.raises(AppendOnlyError):
        appeal_event.delete()
    with pytest.raises(AppendOnlyError), transaction.atomic():
        appeal_event.appeal.delete()  # its events would go with it
    # Past the ORM's checks, the database refuses it (on SQLite too: UPDATE).
    with pytest.raises(IntegrityError), transaction.atomic():
        models.QuerySet.update(AppealEvent.objects.all(), reason="changed")
    if connection.vendor == "postgresql":
        with pytest.raises(IntegrityError), transaction.atomic():
            AppealEvent.objects.all()._raw_delete(connection.alias)
    assert AppealEvent.objects.get().reason == "opened"


def test_every_append_only_and_history_table_has_its_guard(db):
    if connection.vendor == "postgresql":
        installed = guarded_tables(connection)
        assert installed["status_release"] == "status_after"
    else:
        with connection.cursor() as cursor:
            cursor.execute("SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%append_only'")
            installed = {row[0] for row in cursor.fetchall()}
    missing = sorted(set(TABLES) - set(installed))
    assert not missing, f"no append-only guard on {missing}: add append_only_operation to a migration"


def test_history_refuses_updates_except_blanking_what_the_purge_erases(db):
    """On either backend: a history row cannot be rewritten; on SQLite (where the purge uses the
    ORM) an UPDATE that only blanks the erasable columns passes, on PostgreSQL not even that,
    outside the purge functions."""
    phone = Phone.objects.create(
        person=_person(4),
        number_hash="n",
        number_encrypted="secret",
        display_number="138****0000",
        channel="wechat",
        bound_at=_now(),
    )
    history = Phone.history.filter(id=phone.pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        history.update(display_number="139****0000")
    with pytest.raises(IntegrityError), transaction.atomic():
        history.update(number_hash="another")
    if connection.vendor == "postgresql":
        with pytest.raises(IntegrityError), transaction.atomic():
            history.update(number_encrypted="", number_hash="")
    else:
        assert history.update(number_encrypted="", number_hash="") == 1


# --- the application, as the application role --------------------------------------------------------------


@pytest.fixture
def as_app_role(aged, app_role):
    """The Django connection reconnected as the application role for the test, then as the owner
    again (for the flush)."""
    saved = {key: connection.settings_dict[key] for key in app_role.settings}
    connection.close()
    connection.settings_dict.update(app_role.settings)
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(saved)


@postgres_only
def test_the_retention_purge_works_as_the_app_role(aged, as_app_role, app_role):
    from apps.retention.services import purge_expired

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == app_role.name
    counts = purge_expired()
    assert counts["access_log"] == 1
    assert counts["telecom_stays"] == 1
    assert counts["unbound_phones"] == 1
    assert counts["appeal_contacts"] == 1
    assert set(AccessLog.objects.values_list("why", flat=True)) == {"inside", "recent"}
    assert not Stay.history.filter(id=aged["stays"]["ancient"]).exists()
    assert Stay.history.filter(id=aged["stays"]["past"]).exists(), "inside the look-back window plus the margin"
    assert AuditEvent.objects.filter(kind="retention.purged").count() == 4
    # …and the same role, through the ORM, still cannot change what the purge may not.
    with pytest.raises(DatabaseError), transaction.atomic():
        models.QuerySet.update(AuditEvent.objects.all(), reason="changed")
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessLog.objects.all()._raw_delete(connection.alias)


# --- settings: which database `migrate` uses -----------------------------------------------------------------


def _settings(module: str, **env) -> str:
    code = (
        "from django.conf import settings as s;"
        "from apps.core.management.commands.migrate import Command;"
        "d = s.DATABASES; p = Command().create_parser('manage.py', 'migrate');"
        "print(sorted(d), d['default']['USER'], d['default']['NAME'], s.DATABASE_APP_ROLE or '-',"
        " getattr(s, 'DATABASE_APP_URL', '') or '-', p.parse_args([]).database)"
    )
    # The settings' databases from these variables alone: not CI's (DATABASE_*), nor its replica
    # (TEST_REPLICA_URL adds the replica aliases to config.settings.test).
    variables = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "TEST_REPLICA_"))}
    variables.update(DJANGO_SETTINGS_MODULE=module, **env)
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=variables, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return next(line for line in result.stdout.splitlines() if line.startswith("['default'"))


APP_URL = "postgres://hk_app:pw@db.example.org:5432/healthkit"
OWNER_URL = "postgres://hk_owner:pw@db.example.org:5432/healthkit"


def test_migrate_runs_as_the_owner_when_one_is_set_and_the_app_role_is_granted():
    assert _settings("config.settings.base", DATABASE_URL=APP_URL, DATABASE_OWNER_URL=OWNER_URL) == (
        "['default', 'owner'] hk_app healthkit hk_app - owner"
    )


def test_without_an_owner_migrate_runs_on_default_and_grants_nothing():
    assert _settings("config.settings.base", DATABASE_URL=APP_URL) == "['default'] hk_app healthkit - - default"
    assert _settings("config.settings.base", DATABASE_URL=APP_URL, DATABASE_OWNER_URL=APP_URL).startswith(
        "['default'] hk_app healthkit - -"
    )


def test_the_test_suite_runs_as_the_owner_on_the_app_database():
    assert _settings("config.settings.test", DATABASE_URL=APP_URL, DATABASE_OWNER_URL=OWNER_URL) == (
        f"['default'] hk_owner healthkit hk_app {APP_URL} default"
    )
