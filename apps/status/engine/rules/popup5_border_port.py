"""Popup ⑤ — a stay in a land-border-port county.

SPEC §2 ⑤: a stay in the window in a land-border-port county; cleared automatically `L` after the
person left it.
"""

import datetime as dt

from django.utils.translation import gettext_lazy as _

from ..definition import PopupDefinition
from ..facts import Facts
from ..result import Evidence, Finding, RuleOutcome
from ..texts import Message
from .common import counted_stays, is_county_stay, just_after, stay_text

POPUP = PopupDefinition(
    number=5,
    key="border_port",
    title=_("Stayed in a land border port area in the last %(lookback_days)s days"),
    guidance=_("The popup clears automatically %(lookback_days)s days after you leave the port area."),
)

RULE = "popup5.border_port_county"
SUMMARY = Message(RULE, _("In the last %(days)s days you were in a land border port area: %(stay)s."))
CLEARS = Message(f"{RULE}.clears", _("Cleared automatically %(days)s days after you left the area."))


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
                    popup=POPUP.number,
                    summary=SUMMARY(days=facts.policy.lookback_days, stay=stay_text(stay)),
                    clears=CLEARS(days=facts.policy.lookback_days),
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
