"""Database guards for append-only tables (SPEC §5: manual changes can never be edited or
deleted), and the two database roles they rely on (README: Database roles). The models refuse
changes; these triggers and privileges make the database refuse them too, whatever code or
console runs the statement.

**Two roles.** The migration owner (`DATABASE_OWNER_URL`) owns every table, function and trigger
and runs `migrate`. The application (`DATABASE_URL`) connects as a role that may only read and
write rows: `app_role_sync` grants it SELECT, INSERT, UPDATE and DELETE on the tables and USAGE on
the sequences (and, by default privileges, on every table created later), never TRUNCATE,
REFERENCES or TRIGGER, and takes UPDATE and DELETE back on every guarded table. Not being the
owner, it cannot ALTER, DISABLE or DROP a trigger, replace a function, or set
`session_replication_role`.

**The guard.** On PostgreSQL a row trigger refuses UPDATE and DELETE, for every role, the owner
included. TRUNCATE is not a row operation: only the owner may issue it (the test runner's flush);
the application role has no TRUNCATE privilege. On SQLite, the embedded development default, only
UPDATE is refused: the test runner empties tables with DELETE. `fill_once` names a column that may
be written once after insertion, while it still holds `{}` (a release's status after); the
application role may UPDATE that column only.

**Purges.** `purgeable` tables may lose rows, and `erasable` columns may be blanked ('' or NULL,
nothing else changed), only inside a purge function: a SECURITY DEFINER function owned by the
owner (`purge_function_install`; the retention purge's are in `apps/retention/db.py`), which
decides itself which rows are old enough. The trigger lets such a change through only when the
current role is the table's owner (inside the function, the owner's identity) and the function
has set `healthkit.purging` (on while it runs, off when it returns). The application role setting
`healthkit.purging` (or any other setting) gains nothing. The owner could set it, or drop the
trigger: the owner is trusted with the schema; the guard only keeps it from accidents. On SQLite
an UPDATE that only blanks erasable columns passes (the purges' ORM path there).
"""

import functools
import logging
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import DEFAULT_DB_ALIAS, connection, connections, router, transaction
from django.db.migrations.operations import AddIndex, RunPython

logger = logging.getLogger(__name__)

# PostgreSQL advisory-lock keys, one a kind of work, all here so none is used twice.
SWEEP_LOCK = 724201  # the status sweep (apps.status.tasks.sweep_due)
RETENTION_LOCK = 724202  # the retention purge (apps.retention)
INGESTION_LOCK = 724203  # ingestion ids and releases' watermarks (apps.evidence.models)
AUDIT_SEAL_LOCK = 724204  # the sealer of the audit (apps.audit.services.audit_seal)

# Set by a purge function for as long as it runs; the trigger honours it for the table's owner only.
PURGING_SETTING = "healthkit.purging"
TRIGGER_SUFFIX = "_append_only"

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION healthkit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    fill_once text := TG_ARGV[0];
    purgeable boolean := TG_NARGS > 1 AND TG_ARGV[1] = 'purgeable';
    erasable text[] := CASE WHEN TG_NARGS > 2 AND TG_ARGV[2] <> ''
                            THEN string_to_array(TG_ARGV[2], ',') END;
BEGIN
    IF TG_OP = 'UPDATE' AND fill_once IS NOT NULL AND fill_once <> ''
       AND (to_jsonb(OLD) -> fill_once) = '{}'::jsonb
       AND (to_jsonb(NEW) - fill_once) = (to_jsonb(OLD) - fill_once) THEN
        RETURN NEW;
    END IF;
    IF (purgeable OR erasable IS NOT NULL)
       AND current_setting('healthkit.purging', true) = 'on'
       AND pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'USAGE') THEN
        IF TG_OP = 'DELETE' AND purgeable THEN
            RETURN OLD;
        END IF;
        IF TG_OP = 'UPDATE' AND erasable IS NOT NULL
           AND (to_jsonb(NEW) - erasable) = (to_jsonb(OLD) - erasable)
           AND NOT EXISTS (SELECT 1 FROM jsonb_each(to_jsonb(NEW)) AS e(key, value)
                           WHERE e.key = ANY (erasable) AND e.value NOT IN ('""'::jsonb, 'null'::jsonb)) THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION '% rows can never be changed or deleted (append-only)', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END $$;
"""


def _sqlite_columns(schema_editor, table: str) -> list[str]:
    with schema_editor.connection.cursor() as cursor:
        return [row[1] for row in cursor.execute(f'PRAGMA table_info("{table}")').fetchall()]


def _sqlite_condition(schema_editor, table: str, fill_once: str, erasable: tuple[str, ...]) -> str:
    """The WHEN clause of the SQLite trigger: which UPDATEs it refuses (all, when empty)."""
    if not fill_once and not erasable:
        return ""
    others = [c for c in _sqlite_columns(schema_editor, table) if c != fill_once and c not in erasable]
    changed = " OR ".join(f'NEW."{c}" IS NOT OLD."{c}"' for c in others)
    if fill_once:
        return f"WHEN OLD.\"{fill_once}\" <> '{{}}' OR {changed} "
    unerased = " OR ".join(f'(NEW."{c}" IS NOT OLD."{c}" AND NEW."{c}" <> \'\')' for c in erasable)
    return f"WHEN {changed} OR {unerased} "


def append_only_install(
    schema_editor, table: str, fill_once: str = "", purgeable: bool = False, erasable: tuple[str, ...] = ()
) -> None:
    vendor = schema_editor.connection.vendor
    name = f"{table}{TRIGGER_SUFFIX}"
    if vendor == "postgresql":
        args = ", ".join(f"'{a}'" for a in (fill_once, "purgeable" if purgeable else "", ",".join(erasable)))
        schema_editor.execute(PG_FUNCTION, params=None)
        schema_editor.execute(f'DROP TRIGGER IF EXISTS {name} ON "{table}"')
        schema_editor.execute(
            f'CREATE TRIGGER {name} BEFORE UPDATE OR DELETE ON "{table}" '
            f"FOR EACH ROW EXECUTE FUNCTION healthkit_append_only({args})"
        )
    elif vendor == "sqlite":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
        condition = _sqlite_condition(schema_editor, table, fill_once, erasable)
        schema_editor.execute(
            f'CREATE TRIGGER {name} BEFORE UPDATE ON "{table}" {condition}'
            f"BEGIN SELECT RAISE(ABORT, '{table} rows can never be changed (append-only)'); END"
        )


def append_only_remove(schema_editor, table: str) -> None:
    vendor = schema_editor.connection.vendor
    name = f"{table}{TRIGGER_SUFFIX}"
    if vendor == "postgresql":
        schema_editor.execute(f'DROP TRIGGER IF EXISTS {name} ON "{table}"')
    elif vendor == "sqlite":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")


class RunOnSchema(RunPython):
    """A RunPython whose code needs the schema editor only (its `apps` argument is None): triggers,
    functions, grants. RunPython renders every model of the migration state for the `apps` it
    passes, before each run; for the guards and grants of every app that was a fifth of the time
    `migrate` takes on an empty database (each test run's first step)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if router.allow_migrate(schema_editor.connection.alias, app_label, **self.hints):
            self.code(None, schema_editor)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if self.reverse_code is None:
            raise NotImplementedError("You cannot reverse this operation")
        if router.allow_migrate(schema_editor.connection.alias, app_label, **self.hints):
            self.reverse_code(None, schema_editor)


def append_only_operation(table: str, fill_once: str = "", purgeable: bool = False, erasable: tuple[str, ...] = ()):
    """A migration operation installing the guard on `table` (and removing it on the way back)."""

    def forwards(apps, schema_editor):
        append_only_install(schema_editor, table, fill_once, purgeable, erasable)

    def backwards(apps, schema_editor):
        append_only_remove(schema_editor, table)

    return RunOnSchema(forwards, backwards, elidable=False)


# --- purge functions and the application role -----------------------------------------------------


def purge_function_install(connection, *, name: str, args: str, declare: str, statements: str) -> None:
    """(Re)create the purge function `name(args) RETURNS integer` (how many rows it changed, which
    `statements` add up in `n`): SECURITY DEFINER, so it runs as its owner (the migration owner,
    who runs this) and its changes pass the guard; the search path fixed (the schema of the
    tables, the temporary schema last, so no object the caller creates is found first);
    `healthkit.purging` on while it runs only (set inside: PostgreSQL lets no ordinary role put a
    custom setting in a function's SET clause). Nobody but the application role may execute it
    (`app_role_sync` grants it). `declare` and `statements` are PL/pgSQL: they must decide which
    rows are old enough themselves, from the bounds they were installed with; the caller's
    arguments may only narrow them."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        schema = cursor.fetchone()[0]
        cursor.execute(
            f"CREATE OR REPLACE FUNCTION {name}({args}) RETURNS integer LANGUAGE plpgsql SECURITY DEFINER "
            f"SET search_path = pg_catalog, {connection.ops.quote_name(schema)}, pg_temp AS $fn$ "
            f"DECLARE n integer := 0; m integer := 0; {declare} "
            f"BEGIN PERFORM set_config('{PURGING_SETTING}', 'on', true); {statements} "
            f"PERFORM set_config('{PURGING_SETTING}', 'off', true); RETURN n; END $fn$"
        )
        cursor.execute(f"REVOKE ALL ON FUNCTION {name}({args}) FROM PUBLIC")


def guarded_tables(connection) -> dict[str, str]:
    """The tables of the current schema with an append-only trigger, and the column each may
    fill once ('' for none), from the triggers themselves (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, t.tgargs FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgfoid = to_regproc('healthkit_append_only') AND c.relnamespace = current_schema()::regnamespace "
            "AND NOT t.tgisinternal"
        )
        rows = cursor.fetchall()
    return {table: bytes(args).split(b"\x00")[0].decode() for table, args in rows}


def _role_exists(cursor, role: str) -> bool:
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
    return cursor.fetchone() is not None


def app_role_sync(connection, role: str | None = None) -> bool:
    """Give the application role (`role`, else `settings.DATABASE_APP_ROLE`) exactly its
    privileges on the current schema: rows of every table (only SELECT and INSERT on guarded ones,
    plus UPDATE of a fill-once column; only SELECT on django_migrations), USAGE on every
    sequence, EXECUTE on the purge functions, and the same on tables and sequences the owner
    creates later (default privileges). `migrate` runs it after every run; idempotent. Skipped
    (False) on SQLite, when no role is configured, when the role does not exist (a warning), or
    when it is the role running this (a single-role set-up)."""
    role = role if role is not None else getattr(settings, "DATABASE_APP_ROLE", "")
    if connection.vendor != "postgresql" or not role:
        return False
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        if not _role_exists(cursor, role):
            logger.warning("Database role %s does not exist: no privileges granted (README: Database roles)", role)
            return False
        cursor.execute("SELECT current_user, current_schema()")
        owner, schema = cursor.fetchone()
        if role == owner:
            return False
        who, where = qn(role), qn(schema)
        statements = [
            f"GRANT USAGE ON SCHEMA {where} TO {who}",
            # Whatever was granted before (by hand, or an earlier version of this) goes first.
            f"REVOKE ALL ON ALL TABLES IN SCHEMA {where} FROM {who}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {where} TO {who}",
            f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {where} TO {who}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {where} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {who}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {where} GRANT USAGE ON SEQUENCES TO {who}",
            f"REVOKE INSERT, UPDATE, DELETE ON TABLE {qn('django_migrations')} FROM {who}",
        ]
        for table, fill_once in guarded_tables(connection).items():
            statements.append(f"REVOKE UPDATE, DELETE ON TABLE {qn(table)} FROM {who}")
            if fill_once:
                statements.append(f"GRANT UPDATE ({qn(fill_once)}) ON TABLE {qn(table)} TO {who}")
        cursor.execute(
            "SELECT p.oid::regprocedure::text FROM pg_proc p WHERE p.prosecdef AND p.proname LIKE 'healthkit\\_%%' "
            "AND p.pronamespace = current_schema()::regnamespace"
        )
        statements += [f"GRANT EXECUTE ON FUNCTION {fn} TO {who}" for (fn,) in cursor.fetchall()]
        for statement in statements:
            cursor.execute(statement)
    return True


# What `migrate` runs, as the owner, after every run (`database_sync`): an app's `ready()` adds the
# installers of its purge functions, so the periods they enforce follow the settings.
_AFTER_MIGRATE: list = []


def after_migrate(installer) -> None:
    """Have `installer(connection)` run after every `migrate`, before the role's privileges."""
    if installer not in _AFTER_MIGRATE:
        _AFTER_MIGRATE.append(installer)


def database_sync(connection) -> None:
    """After `migrate`: the apps' installers, then the application role's privileges, in one
    transaction."""
    with transaction.atomic(using=connection.alias):
        for installer in _AFTER_MIGRATE:
            installer(connection)
        app_role_sync(connection)


def app_role_operation():
    """A migration operation granting the application role its privileges (PostgreSQL; nothing on
    SQLite or without a separate role). Nothing to undo: the grants go with the tables."""

    def forwards(apps, schema_editor):
        app_role_sync(schema_editor.connection)

    return RunOnSchema(forwards, RunPython.noop, elidable=False)


class AddIndexOnline(AddIndexConcurrently):
    """An index added to a big table without locking out writes: CREATE INDEX CONCURRENTLY on
    PostgreSQL (the migration must set `atomic = False`), a plain CREATE INDEX elsewhere (SQLite,
    the embedded first run, where the tables are small)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


@contextmanager
def advisory_try_lock(key: int):
    """Yields True when this session holds the advisory lock `key` (PostgreSQL; always True
    elsewhere, where one process runs the periodic work), False when another session holds it.
    Released at the end; a connection lost meanwhile has released it already, and unlocking on it
    would replace the error the caller retries on with another."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired and connection.is_usable():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


# --- one row by one column, as a statement whose text never changes -------------------------------


@dataclass(frozen=True)
class RowReader:
    """`SELECT <every column> FROM <table> WHERE <column> = %s` for one model, with the fields'
    own converters: the hot look-ups (a person by ID hash, a status by person) run it at a
    gateway's rate, where building the query through the ORM cost more than running it. Built once
    per process and database (`row_reader`); its text never changes, so the database prepares it
    (DATABASES OPTIONS)."""

    model: type
    names: list[str]
    sql: str
    converters: list[tuple]

    def instance(self, values, using: str):
        """The model instance of a fetched row (None for None), as `from_db` would load it."""
        if values is None:
            return None
        values = list(values)
        database = connections[using]
        for i, column, functions in self.converters:
            for convert in functions:
                values[i] = convert(values[i], column, database)
        return self.model.from_db(using, self.names, values)


@functools.cache
def row_reader(model, field_name: str, using: str = DEFAULT_DB_ALIAS) -> RowReader:
    database = connections[using]
    meta = model._meta
    qn = database.ops.quote_name
    fields = list(meta.concrete_fields)
    table = qn(meta.db_table)
    columns = ", ".join(f"{table}.{qn(f.column)}" for f in fields)
    sql = f"SELECT {columns} FROM {table} WHERE {table}.{qn(meta.get_field(field_name).column)} = %s"
    converters = []
    for i, f in enumerate(fields):
        column = f.get_col(meta.db_table)
        functions = database.ops.get_db_converters(column) + column.get_db_converters(database)
        if functions:
            converters.append((i, column, functions))
    return RowReader(model=model, names=[f.attname for f in fields], sql=sql, converters=converters)
