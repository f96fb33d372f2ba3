"""Bounds on the times and dates the staff screens take, as the API's (`apps.core.fields.MomentField`,
`BoundedDateField`): a year 9999 or 0001 typed or sent into a form is a typo or garbage, and the
first date arithmetic on it (an order's end, a look-back window) overflows into a 500.

`MomentFormField` is the time field of the portal's own forms; `apps.core.admin.BaseAdmin` adds the
same bounds to every date and time field of every model form (tests/api/test_bad_input.py walks
the forms and the admin registry)."""

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .clock import LOCAL_TZ
from .fields import EARLIEST_MOMENT, LATEST_MOMENT

# A date on a staff form (a birth date, a report's day): from 1900 up to 2100.
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2099, 12, 31)


def validate_moment(value: dt.datetime | None) -> None:
    if value is None:
        return
    aware = value if value.tzinfo is not None else value.replace(tzinfo=LOCAL_TZ)
    if not EARLIEST_MOMENT <= aware < LATEST_MOMENT:
        raise ValidationError(_("Give a time from 2000 up to 2100."), code="out_of_range")


def validate_date(value: dt.date | None) -> None:
    if value is None:
        return
    if isinstance(value, dt.datetime):
        validate_moment(value)
    elif not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValidationError(
            _("Give a date from %(earliest)s to %(latest)s."),
            code="out_of_range",
            params={"earliest": EARLIEST_DATE.isoformat(), "latest": LATEST_DATE.isoformat()},
        )


class MomentFormField(forms.DateTimeField):
    """A time on a staff form, from 2000 up to 2100."""

    default_validators = [validate_moment]
