"""The bounded input fields of the API (and the feeds that share its validation): a time from 2000
up to 2100, a date in its range, an integer that fits its column. Outside those bounds a value is a
typo or garbage, and the first arithmetic or query on it overflows into a 500. The staff forms use
the same bounds (`apps.core.forms`)."""

import datetime as dt

from django.db.backends.base.operations import BaseDatabaseOperations
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .clock import LOCAL_TZ

# --- moments ---------------------------------------------------------------------------------------

# The times the service can meaningfully hold. Outside them a time is a typo or garbage, and
# before 1901 Asia/Shanghai had a local mean time offset (+08:05:43) that no ISO 8601 / RFC 3339
# reader accepts, so a stored year-762 designation would be echoed back as a broken timestamp.
EARLIEST_MOMENT = dt.datetime(2000, 1, 1, tzinfo=LOCAL_TZ)
LATEST_MOMENT = dt.datetime(2100, 1, 1, tzinfo=LOCAL_TZ)


class MomentField(serializers.DateTimeField):
    """A time in the API's input: ISO 8601 with offset (API.md), from 2000 up to 2100."""

    default_error_messages = {"out_of_range": _("Give a time from 2000 up to 2100.")}

    def to_internal_value(self, value):
        moment = super().to_internal_value(value)
        if not EARLIEST_MOMENT <= moment < LATEST_MOMENT:
            self.fail("out_of_range")
        return moment


# --- dates ------------------------------------------------------------------------------------------


class BoundedDateField(serializers.DateField):
    """A date in the API's input, inside `earliest`..`latest` (callables: "today" moves). Every
    date the API takes is one (tests/api/test_bad_input.py walks every serializer): year 0001 or
    9999 is a typo or garbage, and date arithmetic on it overflows. Birth dates:
    `apps.people.api.serializers.BirthDateField`."""

    earliest = staticmethod(lambda: EARLIEST_MOMENT.date())
    latest = staticmethod(lambda: LATEST_MOMENT.date() - dt.timedelta(days=1))
    default_error_messages = {"out_of_range": _("Give a date from {earliest} to {latest}.")}

    def to_internal_value(self, value):
        day = super().to_internal_value(value)
        earliest, latest = self.earliest(), self.latest()
        if not earliest <= day <= latest:
            self.fail("out_of_range", earliest=earliest.isoformat(), latest=latest.isoformat())
        return day


class EventDateField(BoundedDateField):
    """The date of an event (a report, a case): from 2000 up to 2100, like `MomentField`."""


# --- numbers ----------------------------------------------------------------------------------------


def column_bounds(model, field_name: str) -> dict:
    """`min_value`/`max_value` for an IntegerField of a serializer that fills the integer column
    `model.field_name`: the column's range on PostgreSQL (the narrowest of the backends), so a
    number too big for it is a field error rather than a database error (a 500)."""
    internal_type = model._meta.get_field(field_name).get_internal_type()
    minimum, maximum = BaseDatabaseOperations.integer_field_ranges[internal_type]
    return {"min_value": minimum, "max_value": maximum}
