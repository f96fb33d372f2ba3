"""Database guards for append-only tables (SPEC §5: manual changes can never be edited or
deleted). The models refuse it; these triggers make the database refuse it too, whatever code or
console runs the statement.

On PostgreSQL a row trigger refuses UPDATE and DELETE (TRUNCATE, which only a database owner's
maintenance or the test runner's flush issues, is not a row operation). On SQLite, the embedded
development default, only UPDATE is refused: the test runner empties tables with DELETE.
`fill_once` names a column that may be written once after insertion, in the transaction that
creates the row, while it still holds `{}` (a release's status after).

`purgeable` tables (the access log, never the audit of manual changes or releases) may lose rows
to the retention purge only (apps.retention): on PostgreSQL a DELETE passes when the transaction
has `SET LOCAL healthkit.retention_purge = 'on'`, and is refused otherwise. It guards against
accidents, not against a database owner, who could drop the trigger anyway.
"""

from contextlib import contextmanager

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import connection
from django.db.migrations.operations import AddIndex

# PostgreSQL advisory-lock keys, one a kind of work, all here so none is used twice.
SWEEP_LOCK = 724201  # the status sweep (apps.status.tasks.sweep_due)
RETENTION_LOCK = 724202  # the retention purge (apps.retention)
INGESTION_LOCK = 724203  # ingestion ids and releases' watermarks (apps.evidence.models)

# The transaction-local setting that lets the retention purge delete rows of `purgeable` tables.
RETENTION_PURGE_SETTING = "healthkit.retention_purge"

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION healthkit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE fill_once text := TG_ARGV[0];
BEGIN
    IF TG_OP = 'UPDATE' AND fill_once IS NOT NULL AND fill_once <> ''
       AND (to_jsonb(OLD) -> fill_once) = '{}'::jsonb
       AND (to_jsonb(NEW) - fill_once) = (to_jsonb(OLD) - fill_once) THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' AND TG_NARGS > 1 AND TG_ARGV[1] = 'purgeable'
       AND current_setting('healthkit.retention_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% rows can never be changed or deleted (append-only)', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END $$;
"""


def _sqlite_columns(schema_editor, table: str) -> list[str]:
    with schema_editor.connection.cursor() as cursor:
        return [row[1] for row in cursor.execute(f'PRAGMA table_info("{table}")').fetchall()]


def append_only_install(schema_editor, table: str, fill_once: str = "", purgeable: bool = False) -> None:
    vendor = schema_editor.connection.vendor
    name = f"{table}_append_only"
    if vendor == "postgresql":
        args = f"'{fill_once}', 'purgeable'" if purgeable else f"'{fill_once}'"
        schema_editor.execute(PG_FUNCTION, params=None)
        schema_editor.execute(f'DROP TRIGGER IF EXISTS {name} ON "{table}"')
        schema_editor.execute(
            f'CREATE TRIGGER {name} BEFORE UPDATE OR DELETE ON "{table}" '
            f"FOR EACH ROW EXECUTE FUNCTION healthkit_append_only({args})"
        )
    elif vendor == "sqlite":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
        condition = ""
        if fill_once:
            others = [c for c in _sqlite_columns(schema_editor, table) if c != fill_once]
            changed = " OR ".join(f'NEW."{c}" IS NOT OLD."{c}"' for c in others)
            condition = f"WHEN OLD.\"{fill_once}\" <> '{{}}' OR {changed} "
        schema_editor.execute(
            f'CREATE TRIGGER {name} BEFORE UPDATE ON "{table}" {condition}'
            f"BEGIN SELECT RAISE(ABORT, '{table} rows can never be changed (append-only)'); END"
        )


def append_only_remove(schema_editor, table: str) -> None:
    vendor = schema_editor.connection.vendor
    name = f"{table}_append_only"
    if vendor == "postgresql":
        schema_editor.execute(f'DROP TRIGGER IF EXISTS {name} ON "{table}"')
    elif vendor == "sqlite":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")


def append_only_operation(table: str, fill_once: str = "", purgeable: bool = False):
    """A migration operation installing the guard on `table` (and removing it on the way back)."""
    from django.db import migrations

    def forwards(apps, schema_editor):
        append_only_install(schema_editor, table, fill_once, purgeable)

    def backwards(apps, schema_editor):
        append_only_remove(schema_editor, table)

    return migrations.RunPython(forwards, backwards, elidable=False)


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
