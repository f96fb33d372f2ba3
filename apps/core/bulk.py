"""Writing many rows at once with PostgreSQL `COPY` (psycopg 3 `cursor.copy`), history included.

`bulk_create` builds one INSERT with a placeholder per value and adapts every value through the
ORM, then `bulk_create_with_history` does it again for the history rows: for a feed batch of
1,000 stays that was a third of the request. Here primary keys are reserved from the sequence
first and both tables are filled with `COPY`, the fastest way into PostgreSQL. Elsewhere (SQLite,
the embedded default) the same calls fall back to `executemany` or `bulk_create_with_history`.
"""

import datetime as dt
import json

from django.db import connection
from django.db.models import BooleanField, JSONField, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, get_change_reason_from_object


def in_array(model, field: str, values, db_type: str = "bigint"):
    """`field IN values` for many values, as a filter: on PostgreSQL `= ANY(%s)` with one array
    parameter, an index scan for the whole chunk, instead of a placeholder and an adaptation per
    value (which cost more than the query itself for chunks of 500 persons; psycopg also parses
    a statement that long anew each time instead of taking it from its cache)."""
    values = list(values)
    if connection.vendor != "postgresql":
        return Q(**{f"{field}__in": values})
    qn = connection.ops.quote_name
    column = f"{qn(model._meta.db_table)}.{qn(model._meta.get_field(field).column)}"
    return RawSQL(f"{column} = ANY(%s::{db_type}[])", (values,), output_field=BooleanField())


def ids_reserve(model, count: int) -> list[int]:
    """`count` primary keys for rows written with explicit ids (from the sequence on PostgreSQL;
    after the current maximum elsewhere, where there is one writer at a time)."""
    if count <= 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [connection.ops.quote_name(table), model._meta.pk.column, count],
            )
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT COALESCE(MAX({model._meta.pk.column}), 0) FROM {connection.ops.quote_name(table)}")
        start = cursor.fetchone()[0] + 1
        return list(range(start, start + count))


def rows_insert(model, rows: list[dict], defaults: dict | None = None) -> None:
    """Insert rows given as dicts by attname; a missing column takes `defaults[attname]`, else the
    field's default (called per row when it is callable). The primary key is written only when the
    first row has one."""
    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and f.attname not in rows[0])]
    defaults = defaults or {}
    columns, fallbacks, per_row = [], [], []
    for f in fields:
        columns.append(f.attname)
        if f.attname in defaults:
            fallbacks.append(defaults[f.attname])
        elif f.has_default() and callable(f.default):
            fallbacks.append(None)
            per_row.append(f)
        else:
            fallbacks.append(f.get_default())  # "" for a blank text field, None for a nullable one
    for f in per_row:
        for row in rows:
            if f.attname not in row:
                row[f.attname] = f.get_default()
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    column_list = ", ".join(qn(f.column) for f in fields)
    pairs = list(zip(columns, fallbacks, strict=True))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            json_at = [i for i, f in enumerate(fields) if isinstance(f, JSONField)]
            # The raw psycopg cursor: its errors are turned into Django's here (IntegrityError,
            # OperationalError...), as the ORM's are, for the callers and the API's handler.
            with (
                connection.wrap_database_errors,
                cursor.cursor.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy,
            ):
                for row in rows:
                    values = [row.get(c, d) for c, d in pairs]
                    for i in json_at:
                        values[i] = fields[i].get_db_prep_save(values[i], connection)
                    copy.write_row(values)
            return
        placeholders = ", ".join(["%s"] * len(fields))
        cursor.executemany(
            f"INSERT INTO {table} ({column_list}) VALUES ({placeholders})",
            [
                [f.get_db_prep_save(row.get(c, d), connection) for f, (c, d) in zip(fields, pairs, strict=True)]
                for row in rows
            ],
        )


def rows_insert_with_history(
    model, rows: list[dict], t: dt.datetime, *, change_reason: str | None = None, user_id: int | None = None
) -> None:
    """Insert rows (dicts by attname) and one history row each (`+`, at `t`), as
    `bulk_create_with_history` would, in the caller's transaction. Sets each row's `id`."""
    if not rows:
        return
    pk = model._meta.pk.attname
    for row, value in zip(rows, ids_reserve(model, len(rows)), strict=True):
        row[pk] = value
    rows_insert(model, rows)
    defaults = {"history_date": t, "history_type": "+", "history_change_reason": change_reason}
    defaults["history_user_id"] = user_id
    _history_copy(model, [row[pk] for row in rows], defaults)


def _history_copy(model, ids: list[int], defaults: dict) -> None:
    """The history rows of rows just inserted, copied inside the database (`INSERT … SELECT` of
    the new ids) rather than sent a second time: each tracked column from the row, the history's
    own columns from `defaults` or their fields' defaults (the origin of the change, read once)."""
    history = model.history.model
    source = {f.attname: f.column for f in model._meta.concrete_fields}
    qn = connection.ops.quote_name
    columns, selected, params = [], [], []
    for f in history._meta.concrete_fields:
        if f.primary_key:
            continue
        columns.append(qn(f.column))
        if f.attname in source:
            selected.append(f"src.{qn(source[f.attname])}")
            continue
        value = defaults[f.attname] if f.attname in defaults else f.get_default()
        selected.append("%s")
        params.append(f.get_db_prep_save(value, connection))
    pk = qn(model._meta.pk.column)
    if connection.vendor == "postgresql":
        where, ids_param = f"src.{pk} = ANY(%s::bigint[])", ids
    else:
        where, ids_param = f"src.{pk} IN (SELECT value FROM json_each(%s))", json.dumps(ids)
    sql = (
        f"INSERT INTO {qn(history._meta.db_table)} ({', '.join(columns)}) "
        f"SELECT {', '.join(selected)} FROM {qn(model._meta.db_table)} AS src WHERE {where} ORDER BY src.{pk}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, ids_param])


def history_user_id(model) -> int | None:
    """The user simple-history records for a change made now (the request's authenticated user,
    from its middleware; none in a task or command), for history rows written by `rows_insert`."""
    user = model.history.model.get_default_history_user(_NO_INSTANCE)
    return user.pk if user else None


class _NoInstance:
    """No instance: simple-history reads the request's user when it has no `_history_user`."""


_NO_INSTANCE = _NoInstance()


def objs_create_with_history(objs: list, model) -> list:
    """`bulk_create_with_history(objs, model)` for new, unsaved instances: the same rows and
    history rows (user from the request, as simple-history takes it, and the instances' change
    reasons), written with COPY on PostgreSQL. Sets the instances' primary keys."""
    if not objs:
        return objs
    if connection.vendor != "postgresql":
        return bulk_create_with_history(objs, model, batch_size=1000)
    history = model.history.model
    fields = model._meta.concrete_fields
    pk = model._meta.pk
    ids = ids_reserve(model, len(objs))
    rows, history_rows = [], []
    default_user = None
    t = timezone.now()
    for obj, value in zip(objs, ids, strict=True):
        obj._prepare_related_fields_for_save(operation_name="bulk_create")
        setattr(obj, pk.attname, value)
        row = {f.attname: f.pre_save(obj, True) for f in fields}
        obj._state.adding = False
        obj._state.db = connection.alias
        rows.append(row)
        if default_user is None:
            default_user = history.get_default_history_user(obj) or False
        user = getattr(obj, "_history_user", default_user or None)
        history_rows.append(
            {
                **{f.attname: row.get(f.attname, getattr(obj, f.attname)) for f in history.tracked_fields},
                "history_date": getattr(obj, "_history_date", t),
                "history_user_id": user.pk if user else None,
                "history_change_reason": get_change_reason_from_object(obj) or None,
                "history_type": "+",
            }
        )
    rows_insert(model, rows)
    rows_insert(history, history_rows)
    return objs


def tables_analyze(*models) -> None:
    """Refresh the planner's statistics after a bulk load. Until autovacuum gets to it, a table
    filled by COPY looks empty to the planner, which then picks sequential scans over millions of
    rows for a chunk of 500 persons."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
