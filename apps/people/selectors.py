"""Reads of persons."""

import datetime as dt
import functools

from django.core.exceptions import ValidationError
from django.db import connections

from .choices import IdType
from .identity import normalise_id_number, validate_id
from .models import Person
from .services import person_id_hash


def person_by_id(*, id_type: str, id_number: str, queryset=None) -> Person | None:
    """The person with this ID, or None. Raises ValidationError on a malformed ID. Note: a
    resident ID is validated against a far-future date so a look-up never fails on `today`."""
    number = validate_id(id_type, id_number, today=dt.date(9999, 12, 31))
    qs = queryset if queryset is not None else Person.objects.all()
    digest = person_id_hash(id_type, number)
    if _unrestricted(qs):
        return _person_by_hash(digest, qs.db)
    return qs.filter(id_hash=digest).first()


def _unrestricted(qs) -> bool:
    """Whether `qs` is every person, as the access layer answers for those who see everyone
    (a partner, the CDC): then the look-up by the unique hash needs no query to be built."""
    query = qs.query
    return (
        qs.model is Person
        and not query.where
        and not query.is_empty()
        and not query.select_related
        and not query.deferred_loading[0]
        and query.deferred_loading[1]
        and not query.annotations
        and not query.extra
    )


def _person_by_hash(digest: str, using: str) -> Person | None:
    """`Person.objects.filter(id_hash=digest).first()` as one statement whose text never changes
    (built once per process, prepared by the database: DATABASES OPTIONS). The status look-up runs
    it at a gateway's rate, where building the query through the ORM cost more than running it."""
    connection = connections[using]
    names, sql, converters = _person_reader(connection.vendor, using)
    if connection.vendor == "postgresql":
        # psycopg's connection itself, on Django's connection and transaction, its errors still
        # Django's (a 503 when the database is away): Django's cursor wrapper cost more than the
        # statement (0.1 ms a call) at the look-up's rate.
        connection.ensure_connection()
        connection.validate_no_broken_transaction()
        with connection.wrap_database_errors:
            values = connection.connection.execute(sql, [digest]).fetchone()
    else:
        with connection.cursor() as cursor:
            cursor.execute(sql, [digest])
            values = cursor.fetchone()
    if values is None:
        return None
    values = list(values)
    for i, column, functions in converters:
        for convert in functions:
            values[i] = convert(values[i], column, connection)
    return Person.from_db(using, names, values)


@functools.cache
def _person_reader(vendor: str, using: str):
    connection = connections[using]
    meta = Person._meta
    qn = connection.ops.quote_name
    fields = list(meta.concrete_fields)
    table = qn(meta.db_table)
    columns = ", ".join(f"{table}.{qn(f.column)}" for f in fields)
    sql = f"SELECT {columns} FROM {table} WHERE {table}.{qn(meta.get_field('id_hash').column)} = %s"
    converters = []
    for i, f in enumerate(fields):
        column = f.get_col(meta.db_table)
        functions = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if functions:
            converters.append((i, column, functions))
    return [f.attname for f in fields], sql, converters


def person_id_hashes(term: str) -> list[str]:
    """The look-up hashes `term` would have as an ID number of each ID type, for the types it is
    a valid number of. Lets staff find a person by the full ID number, which is never stored."""
    value = normalise_id_number(term)
    if not value:
        return []
    hashes = []
    for id_type in IdType.values:
        try:
            # A far-future "today": a look-up never fails on the birth date being recent.
            number = validate_id(id_type, value, today=dt.date(9999, 12, 31))
        except ValidationError:
            continue
        hashes.append(person_id_hash(id_type, number))
    return hashes


__all__ = ["person_by_id", "person_id_hashes", "ValidationError"]
