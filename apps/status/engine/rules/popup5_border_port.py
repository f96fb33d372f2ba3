"""Popup ⑤ — a stay in a land-border-port county.

SPEC §2 ⑤: a stay in the window in a land-border-port county; cleared automatically `L` after the
person left it.
"""

import datetime as dt

from ..facts import Facts
from ..result import Evidence, Finding, RuleOutcome
from .common import counted_stays, is_county_stay, just_after, stay_text

RULE = "popup5.border_port_county"


def evaluate(facts: Facts, t: dt.datetime) -> RuleOutcome:
    out = RuleOutcome()
    lookback = facts.policy.lookback
    for stay in counted_stays(facts, t, out.changes):
        if not is_county_stay(stay):
            continue
        for port in facts.border_ports:
            if port.area_code != stay.area_code:
                continue
            if port.effective_from > t:
                out.changes.append(port.effective_from)
                continue
            if port.effective_to is not None and t >= port.effective_to:
                continue
            if port.effective_to is not None:
                out.changes.append(port.effective_to)
            clears_at = None if stay.departed_at is None else just_after(stay.departed_at + lookback)
            out.findings.append(
                Finding(
                    rule=RULE,
                    popup=5,
                    summary=f"您近{facts.policy.lookback_days}天内到过陆路边境口岸地区{stay_text(stay)}。",
                    clears=f"离开该地满{facts.policy.lookback_days}天后系统自动解除。",
                    evidence=(
                        Evidence("stay", stay.id, stay.ingestion_id),
                        Evidence("border_port", port.id, port.ingestion_id),
                    ),
                    since=max(stay.arrived_at, port.effective_from),
                    clears_at=clears_at,
                )
            )
            break
    return out
