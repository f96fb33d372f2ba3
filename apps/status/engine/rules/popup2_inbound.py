"""Popup ② — inbound (international) arrival still in quarantine.

SPEC §2 ②: entered on local date D with `inbound_quarantine_days` days: cleared automatically at
00:00 on D + days + 1 (entered on the 1st with 21 days: cleared at 00:00 on the 23rd), or at
`quarantine_completed_at` when the arrival record carries one.
"""

import datetime as dt

from apps.core.clock import local_date, local_midnight

from ..facts import Facts
from ..result import Evidence, Finding, RuleOutcome
from .common import fmt

RULE = "popup2.inbound_quarantine"


def quarantine_end(arrival, days: int) -> dt.datetime:
    end = local_midnight(local_date(arrival.entered_at) + dt.timedelta(days=days + 1))
    if arrival.quarantine_completed_at is not None:
        end = min(end, arrival.quarantine_completed_at)
    return end


def evaluate(facts: Facts, t: dt.datetime) -> RuleOutcome:
    out = RuleOutcome()
    days = facts.policy.inbound_quarantine_days
    for arrival in facts.arrivals:
        end = quarantine_end(arrival, days)
        if arrival.entered_at > t:
            out.changes.append(arrival.entered_at)
            continue
        if t >= end:
            continue
        out.changes.append(end)
        out.findings.append(
            Finding(
                rule=RULE,
                popup=2,
                summary=f"您于{fmt(arrival.entered_at)}入境，入境隔离观察期{days}天尚未结束。",
                clears=f"系统自动解除：{fmt(end)}。",
                evidence=(Evidence("inbound_arrival", arrival.id, arrival.ingestion_id),),
                since=arrival.entered_at,
                clears_at=end,
            )
        )
    return out
