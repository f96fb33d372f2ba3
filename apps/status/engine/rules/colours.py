"""Colours from orders and location (SPEC §3).

red: an active centralised-observation order. yellow: an active home-observation order, or the
person's latest stay is ongoing in a county currently designated medium or high. An order is active
from `starts_at` until `ends_at` (open-ended when null) or until its issuer ends it.
"""

import datetime as dt

from django.utils.translation import gettext_lazy as _

from ..facts import Facts, OrderFact
from ..result import Evidence, Finding, RuleOutcome
from ..texts import Message
from .common import counted_stays, is_county_stay, is_risky, level_at, level_text, stay_text, when

RULE_RED = "red.centralized_order"
RULE_YELLOW_ORDER = "yellow.home_order"
RULE_YELLOW_LOCATION = "yellow.in_risk_county"

SUMMARY = {
    RULE_RED: Message(RULE_RED, _("Centralised observation: from %(starts)s until %(ends)s.")),
    RULE_YELLOW_ORDER: Message(RULE_YELLOW_ORDER, _("Home observation: from %(starts)s until %(ends)s.")),
}
CLEARS_ORDER = Message("order.clears", _("When the observation period ends, or when the issuer ends it."))
IN_RISK_COUNTY = Message(RULE_YELLOW_LOCATION, _("You are still in a %(level)s area: %(stay)s."))
IN_RISK_COUNTY_CLEARS = Message(
    f"{RULE_YELLOW_LOCATION}.clears", _("Cleared once you leave the area or it is designated low risk.")
)


def order_end(order: OrderFact) -> dt.datetime | None:
    ends = [m for m in (order.ends_at, order.ended_at) if m is not None]
    return min(ends) if ends else None


def evaluate(facts: Facts, t: dt.datetime) -> RuleOutcome:
    out = RuleOutcome()
    for order in facts.orders:
        end = order_end(order)
        if order.starts_at > t:
            out.changes.append(order.starts_at)
            continue
        if end is not None and t >= end:
            continue
        if end is not None:
            out.changes.append(end)
        red = order.kind == "centralized"
        rule = RULE_RED if red else RULE_YELLOW_ORDER
        out.findings.append(
            Finding(
                rule=rule,
                state="red" if red else "yellow",
                summary=SUMMARY[rule](starts=when(order.starts_at), ends=when(end)),
                clears=CLEARS_ORDER(),
                evidence=(Evidence("observation_order", order.id, order.ingestion_id),),
                since=order.starts_at,
                clears_at=end,
            )
        )
    stays = counted_stays(facts, t, out.changes)
    if stays:
        latest = max(stays, key=lambda s: (s.arrived_at, s.id))
        if latest.departed_at is None and is_county_stay(latest):
            designation = level_at(facts, latest.area_code, t, out.changes)
            if is_risky(designation):
                out.findings.append(
                    Finding(
                        rule=RULE_YELLOW_LOCATION,
                        state="yellow",
                        summary=IN_RISK_COUNTY(level=level_text(designation.level), stay=stay_text(latest)),
                        clears=IN_RISK_COUNTY_CLEARS(),
                        evidence=(
                            Evidence("stay", latest.id, latest.ingestion_id),
                            Evidence("designation", designation.id, designation.ingestion_id),
                        ),
                        since=max(latest.arrived_at, designation.effective_from),
                    )
                )
    return out
