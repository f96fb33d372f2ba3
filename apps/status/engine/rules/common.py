"""What several rules share: which stays count at `t`, a county's risk level at `t`, NATs, and
the pieces of their texts (a stay, a moment, a risk level)."""

import datetime as dt

from django.utils.translation import gettext_lazy as _

from apps.core.clock import LOCAL_TZ
from apps.policy.choices import RiskLevel

from ..facts import DesignationFact, Facts, LabFact, StayFact
from ..texts import Message, Text

TELECOM = "telecom"
CITY = "city"
COUNTY = "county"
RISKY = ("medium", "high")
# A risk level in a text: its label (policy.choices), translated with it.
LEVELS = {level.value: Message(f"level.{level.value}", level.label) for level in RiskLevel}
STAY = Message("stay", _("%(area)s (%(arrived)s to %(departed)s)"))
ONGOING = Message("moment.ongoing", _("the present"))
EPSILON = dt.timedelta(microseconds=1)


def just_after(moment: dt.datetime) -> dt.datetime:
    """The first moment after `moment` (windows are inclusive of their edge)."""
    return moment + EPSILON


def in_window(stay: StayFact, t: dt.datetime, lookback: dt.timedelta) -> bool:
    """SPEC §2: a stay is in the window when it is still going on or departed at or after t − L."""
    return stay.arrived_at <= t and (stay.departed_at is None or stay.departed_at >= t - lookback)


def phone_period_end(facts: Facts, phone) -> dt.datetime | None:
    if phone.unbound_at is None:
        return None
    return phone.unbound_at + dt.timedelta(days=facts.policy.phone_unbind_days)


# The last answer of `counted_stays`: four rules ask it of the same facts and moment in one
# evaluation. Held by reference (compared with `is`, never hashed: hashing the facts would cost
# more than the answer), so an entry never matches another person's facts; one tuple, read and
# replaced whole, so threads evaluating at once never see half of another's entry.
_last_counted: tuple = (None, None, (), ())


def counted_stays(facts: Facts, t: dt.datetime, changes: list[dt.datetime]) -> list[StayFact]:
    """The stays that count at `t` (SPEC §2 rules for using them), appending to `changes` every
    future moment at which that set can change without new data."""
    global _last_counted
    last_facts, last_t, counted, found = _last_counted
    if last_facts is facts and last_t == t:
        changes.extend(found)
        return list(counted)
    found_now: list[dt.datetime] = []
    counted_now = _counted_stays(facts, t, found_now)
    _last_counted = (facts, t, tuple(counted_now), tuple(found_now))
    changes.extend(found_now)
    return counted_now


def _counted_stays(facts: Facts, t: dt.datetime, changes: list[dt.datetime]) -> list[StayFact]:
    policy = facts.policy
    lookback = policy.lookback
    min_telecom = dt.timedelta(hours=policy.telecom_min_stay_hours)
    phones: dict[str, list[tuple[dt.datetime, dt.datetime | None]]] = {}
    for phone in facts.phones:
        end = phone_period_end(facts, phone)
        phones.setdefault(phone.number_hash, []).append((phone.bound_at, end))
        for moment in (phone.bound_at, end):
            if moment is not None and moment > t:
                changes.append(moment)
    counted = []
    for stay in facts.stays:
        if stay.refunded:
            continue
        if stay.arrived_at > t:
            changes.append(stay.arrived_at)
            continue
        if stay.departed_at is not None and stay.departed_at < stay.arrived_at:
            continue
        if stay.phone_hash:
            # A number's stays count while t is inside the period the number belongs to the person,
            # and only those stays overlapping that period.
            periods = phones.get(stay.phone_hash, ())
            if not any(
                start <= t
                and (end is None or t < end)
                and (end is None or stay.arrived_at < end)
                and (stay.departed_at is None or stay.departed_at >= start)
                for start, end in periods
            ):
                continue
        if stay.source == TELECOM:
            reached = stay.arrived_at + min_telecom
            if stay.departed_at is None:
                if t < reached:
                    changes.append(reached)
                    continue
            elif stay.departed_at - stay.arrived_at < min_telecom:
                continue
        if not in_window(stay, t, lookback):
            continue
        if stay.departed_at is not None:
            changes.append(just_after(stay.departed_at + lookback))
        counted.append(stay)
    return counted


def is_county_stay(stay: StayFact) -> bool:
    return stay.precision == COUNTY


def level_at(facts: Facts, area_code: str, t: dt.datetime, changes: list[dt.datetime] | None = None):
    """The designation in force for a county at `t` (latest effective_from at or before t, ties:
    published last), or None (low). Future designations of the county are changes."""
    current: DesignationFact | None = None
    for d in facts.designations:
        if d.area_code != area_code:
            continue
        if d.effective_from > t:
            if changes is not None:
                changes.append(d.effective_from)
            continue
        if current is None or (d.effective_from, d.id) > (current.effective_from, current.id):
            current = d
    return current


def is_risky(designation: DesignationFact | None) -> bool:
    return designation is not None and designation.level in RISKY


def negative_nats(facts: Facts, t: dt.datetime) -> list[LabFact]:
    return sorted(
        (lab for lab in facts.labs if lab.result == "negative" and lab.sampled_at <= t), key=lambda x: x.sampled_at
    )


def fmt(moment: dt.datetime) -> str:
    """A moment in a text: local time to the minute (language-neutral)."""
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


def when(moment: dt.datetime | None) -> str | Text:
    """A moment that may be open (a stay or an order still going on): "the present", translated."""
    return ONGOING() if moment is None else fmt(moment)


def level_text(level: str) -> Text | str:
    return LEVELS[level]() if level in LEVELS else level


def stay_text(stay: StayFact) -> Text:
    return STAY(area=stay.area_name or stay.area_code, arrived=when(stay.arrived_at), departed=when(stay.departed_at))
