"""Reads of persons."""

import datetime as dt

from django.core.exceptions import ValidationError

from .choices import IdType
from .identity import normalise_id_number, validate_id
from .models import Person
from .services import person_id_hash


def person_by_id(*, id_type: str, id_number: str, queryset=None) -> Person | None:
    """The person with this ID, or None. Raises ValidationError on a malformed ID. Note: a
    resident ID is validated against a far-future date so a look-up never fails on `today`."""
    number = validate_id(id_type, id_number, today=dt.date(9999, 12, 31))
    qs = queryset if queryset is not None else Person.objects.all()
    return qs.filter(id_hash=person_id_hash(id_type, number)).first()


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
