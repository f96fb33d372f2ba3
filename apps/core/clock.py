"""The one clock of the portal, and local-date arithmetic in Asia/Shanghai.

Everything asks `now()` rather than the datetime module so tests can control time (time-machine
patches both) and so midnights are always computed in the city's own time zone.
"""

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def now() -> dt.datetime:
    return timezone.now()


def local_iso(moment: dt.datetime) -> str:
    """A moment as ISO 8601 with the Beijing offset (API.md: times with offset)."""
    return moment.astimezone(LOCAL_TZ).isoformat()


def local_date(moment: dt.datetime) -> dt.date:
    """The local (Asia/Shanghai) calendar date of an aware moment."""
    return moment.astimezone(LOCAL_TZ).date()


def local_midnight(day: dt.date) -> dt.datetime:
    """00:00 local time at the start of `day`, as an aware datetime."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=LOCAL_TZ)


def next_local_midnight(moment: dt.datetime) -> dt.datetime:
    """The first local midnight strictly after `moment`."""
    return local_midnight(local_date(moment) + dt.timedelta(days=1))
