"""Popup ② — inbound (international) arrival still in quarantine.

SPEC §2 ②: entered on local date D with `inbound_quarantine_days` days: cleared automatically at
00:00 on D + days + 1 (entered on the 1st with 21 days: cleared at 00:00 on the 23rd), or at
`quarantine_completed_at` when the arrival record carries one.
"""

import datetime as dt

from django.utils.translation import gettext_lazy as _

from apps.core.clock import local_date, local_midnight

from ..definition import PopupDefinition
from ..facts import Facts
from ..result import Evidence, Finding, RuleOutcome
from ..texts import Message
from .common import fmt

POPUP = PopupDefinition(
    number=2,
    key="inbound",
    title=_("Inbound traveller whose quarantine period is not over"),
    guidance=_(
        "Please complete the observation required of inbound travellers; the popup clears automatically "
        "at 00:00 on the day the period ends."
    ),
)

RULE = "popup2.inbound_quarantine"
SUMMARY = Message(
    RULE, _("You entered the country at %(entered)s; the %(days)s-day inbound quarantine period is not over.")
)
CLEARS = Message(f"{RULE}.clears", _("Cleared automatically at %(ends)s."))


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
                popup=POPUP.number,
                summary=SUMMARY(entered=fmt(arrival.entered_at), days=days),
                clears=CLEARS(ends=fmt(end)),
                evidence=(Evidence("inbound_arrival", arrival.id, arrival.ingestion_id),),
                since=arrival.entered_at,
                clears_at=end,
            )
        )
    return out
