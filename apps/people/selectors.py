"""Reads of persons."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import connections

from apps.core.db import row_reader

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
    reader = row_reader(Person, "id_hash", using)
    if connection.vendor == "postgresql":
        # psycopg's connection itself, on Django's connection and transaction, its errors still
        # Django's (a 503 when the database is away): Django's cursor wrapper cost more than the
        # statement (0.1 ms a call) at the look-up's rate.
        connection.ensure_connection()
        connection.validate_no_broken_transaction()
        with connection.wrap_database_errors:
            values = connection.connection.execute(reader.sql, [digest]).fetchone()
    else:
        with connection.cursor() as cursor:
            cursor.execute(reader.sql, [digest])
            values = cursor.fetchone()
    return reader.instance(values, using)


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
