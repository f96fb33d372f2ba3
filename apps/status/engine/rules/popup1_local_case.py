"""Popup ① — a stay in the window in a county with a recent local case.

SPEC §2 ①: fires for a stay in the window in a county with a local case reported on a date later
than date(t) − `local_case_clear_days`; clears at 00:00 on the latest report date + 14, when a
low-risk designation takes effect on a later date than the latest report, or `L` after the person
left the county.
"""

import datetime as dt

from django.utils.translation import gettext_lazy as _

from apps.core.clock import local_date, local_midnight

from ..definition import PopupDefinition
from ..facts import Facts
from ..result import Evidence, Finding, RuleOutcome
from ..texts import Message
from .common import counted_stays, fmt, is_county_stay, just_after, stay_text

POPUP = PopupDefinition(
    number=1,
    key="local_case",
    title=_("Stayed in a county with local cases in the last %(lookback_days)s days"),
    guidance=_(
        "Please go out less and watch your health; the popup clears automatically when it expires, no appeal is needed."
    ),
)

RULE = "popup1.local_case_county"
SUMMARY = Message(
    RULE, _("In the last %(days)s days you were in %(stay)s, where a local case was reported on %(reported_on)s.")
)
CLEARS = Message(
    f"{RULE}.clears",
    _(
        "Cleared automatically at %(ends)s (00:00 on day %(clear_days)s after the latest case report), "
        "or %(days)s days after you left the area, or once the area is designated low risk."
    ),
)


def evaluate(facts: Facts, t: dt.datetime) -> RuleOutcome:
    out = RuleOutcome()
    clear_days = dt.timedelta(days=facts.policy.local_case_clear_days)
    today = local_date(t)
    for stay in counted_stays(facts, t, out.changes):
        if not is_county_stay(stay):
            continue
        reports = [r for r in facts.local_cases if r.area_code == stay.area_code and r.reported_on <= today]
        recent = [r for r in reports if r.reported_on > today - clear_days]
        if not recent:
            continue
        latest = max(r.reported_on for r in recent)
        lows = [
            d
            for d in facts.designations
            if d.area_code == stay.area_code and d.level == "low" and local_date(d.effective_from) > latest
        ]
        if any(d.effective_from <= t for d in lows):
            continue
        out.changes.extend(d.effective_from for d in lows)
        ends = local_midnight(latest + clear_days)
        # Every recent report ages out on its own day; each changes the reason's evidence.
        out.changes.extend(local_midnight(r.reported_on + clear_days) for r in recent)
        clears_at = (
            ends if stay.departed_at is None else min(ends, just_after(stay.departed_at + facts.policy.lookback))
        )
        out.findings.append(
            Finding(
                rule=RULE,
                popup=POPUP.number,
                summary=SUMMARY(
                    days=facts.policy.lookback_days, stay=stay_text(stay), reported_on=f"{latest:%Y-%m-%d}"
                ),
                clears=CLEARS(
                    ends=fmt(ends), clear_days=facts.policy.local_case_clear_days, days=facts.policy.lookback_days
                ),
                evidence=(Evidence("stay", stay.id, stay.ingestion_id),)
                + tuple(Evidence("local_case", r.id, r.ingestion_id) for r in recent),
                since=max(stay.arrived_at, local_midnight(min(r.reported_on for r in recent))),
                clears_at=clears_at,
            )
        )
    return out
