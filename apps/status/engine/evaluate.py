"""Composes the rules into one status (SPEC §1): releases applied (SPEC §5), precedence
red > yellow > popup > green, `valid_until` and `next_change_at` (SPEC §10)."""

import datetime as dt

from apps.core.clock import next_local_midnight

from .facts import Facts, ReleaseFact
from .result import Finding, PopupState, StatusResult
from .rules import colours, popup1_local_case, popup2_inbound, popup3_risk_area, popup4_untested, popup5_border_port

RULES = (popup1_local_case, popup2_inbound, popup3_risk_area, popup4_untested, popup5_border_port, colours)
MANUAL_POPUPS = {3}


def _latest_release(facts: Facts, number: int, t: dt.datetime) -> ReleaseFact | None:
    releases = [r for r in facts.releases if r.popup_number == number and r.created_at <= t]
    return max(releases, key=lambda r: (r.watermark, r.id), default=None)


def _apply_release(findings: list[Finding], release: ReleaseFact | None) -> list[Finding]:
    """A release covers the evidence ingested up to its watermark; a finding with evidence learnt
    later raises the popup again, naming the release and the new evidence."""
    if release is None:
        return findings
    kept = []
    for finding in findings:
        new = [e for e in finding.evidence if e.ingestion_id > release.watermark]
        if not new:
            continue
        names = "、".join(f"{e.kind} #{e.id}" for e in new)
        kept.append(
            Finding(
                rule=finding.rule,
                popup=finding.popup,
                summary=f"{finding.summary}（此前已于解除记录 #{release.id} 人工解除；解除后新增证据：{names}，再次弹窗。）",
                clears=finding.clears,
                evidence=finding.evidence,
                since=max(finding.since or release.created_at, release.created_at),
                clears_at=finding.clears_at,
                after_release=release.id,
            )
        )
    return kept


def evaluate(facts: Facts, t: dt.datetime) -> StatusResult:
    changes: list[dt.datetime] = []
    findings: list[Finding] = []
    for rule in RULES:
        outcome = rule.evaluate(facts, t)
        findings.extend(outcome.findings)
        changes.extend(outcome.changes)
    if facts.next_policy_at is not None:
        changes.append(facts.next_policy_at)

    reasons: list[Finding] = [f for f in findings if f.state is not None]
    popups: list[PopupState] = []
    released: list[int] = []
    for number in range(1, 6):
        of_number = [f for f in findings if f.popup == number]
        if not of_number:
            continue
        kept = _apply_release(of_number, _latest_release(facts, number, t))
        if not kept:
            released.append(number)
            continue
        reasons.extend(kept)
        clears_at = [f.clears_at for f in kept]
        popups.append(
            PopupState(
                number=number,
                since=min(f.since or t for f in kept),
                clears="manual_or_auto" if number in MANUAL_POPUPS else "auto",
                clears_at=None if any(c is None for c in clears_at) else max(clears_at),
            )
        )

    states = {f.state for f in reasons if f.state}
    if "red" in states:
        state = "red"
    elif "yellow" in states:
        state = "yellow"
    elif popups:
        state = "popup"
    else:
        state = "green"

    future = [c for c in changes if c > t]
    next_change_at = min(future) if future else None
    midnight = next_local_midnight(t)
    valid_until = midnight if next_change_at is None else min(midnight, next_change_at)
    reasons.sort(key=lambda f: ({"red": 0, "yellow": 1}.get(f.state or "", 2), f.popup or 0, f.rule))
    return StatusResult(
        state=state,
        popups=tuple(popups),
        reasons=tuple(reasons),
        computed_at=t,
        next_change_at=next_change_at,
        valid_until=valid_until,
        released=tuple(released),
    )
