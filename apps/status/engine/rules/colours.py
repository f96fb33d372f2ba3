"""Colours from orders and location (SPEC §3).

red: an active centralised-observation order. yellow: an active home-observation order, or the
person's latest stay is ongoing in a county currently designated medium or high. An order is active
from `starts_at` until `ends_at` (open-ended when null) or until its issuer ends it.
"""

import datetime as dt

from ..facts import Facts, OrderFact
from ..result import Evidence, Finding, RuleOutcome
from .common import LEVEL_LABEL, counted_stays, fmt, is_county_stay, is_risky, level_at, stay_text

RULE_RED = "red.centralized_order"
RULE_YELLOW_ORDER = "yellow.home_order"
RULE_YELLOW_LOCATION = "yellow.in_risk_county"


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
        out.findings.append(
            Finding(
                rule=RULE_RED if red else RULE_YELLOW_ORDER,
                state="red" if red else "yellow",
                summary=("集中观察" if red else "居家观察") + f"：自{fmt(order.starts_at)}起，至{fmt(end)}。",
                clears="观察期满或由下达单位解除。",
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
                        summary=f"您目前仍在{LEVEL_LABEL[designation.level]}地区{stay_text(latest)}。",
                        clears="离开该地区或该地调为低风险后解除。",
                        evidence=(
                            Evidence("stay", latest.id, latest.ingestion_id),
                            Evidence("designation", designation.id, designation.ingestion_id),
                        ),
                        since=max(latest.arrived_at, designation.effective_from),
                    )
                )
    return out
