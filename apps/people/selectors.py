"""Reads of persons."""

from django.core.exceptions import ValidationError

from .identity import validate_id
from .models import Person
from .services import person_id_hash


def person_by_id(*, id_type: str, id_number: str, queryset=None) -> Person | None:
    """The person with this ID, or None. Raises ValidationError on a malformed ID. Note: a
    resident ID is validated against a far-future date so a look-up never fails on `today`."""
    import datetime as dt

    number = validate_id(id_type, id_number, today=dt.date(9999, 12, 31))
    qs = queryset if queryset is not None else Person.objects.all()
    return qs.filter(id_hash=person_id_hash(id_type, number)).first()


__all__ = ["person_by_id", "ValidationError"]
