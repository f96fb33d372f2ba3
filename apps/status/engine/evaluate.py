"""Composes the rules into one status (SPEC §1): releases applied (SPEC §5), precedence
red > yellow > popup > green, `valid_until` and `next_change_at` (SPEC §10)."""

import datetime as dt

from django.utils.translation import gettext_lazy as _

from apps.core.clock import next_local_midnight

from ..choices import PRECEDENCE, State, strongest
from .facts import Facts, ReleaseFact
from .registry import POPUPS, RULES
from .result import Finding, PopupState, StatusResult
from .texts import Message

AFTER_RELEASE = Message(
    "after_release",
    _(
        "%(summary)s (released by hand in release #%(release)s; new evidence since the release: %(evidence)s, "
        "so the popup is raised again.)"
    ),
)


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
        names = [f"{e.kind} #{e.id}" for e in new]
        kept.append(
            Finding(
                rule=finding.rule,
                popup=finding.popup,
                summary=AFTER_RELEASE(summary=finding.summary, release=release.id, evidence=names),
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
    for number, definition in POPUPS.items():
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
                clears=definition.clears,
                clears_at=None if any(c is None for c in clears_at) else max(clears_at),
                params=definition.params_from(facts.policy),
            )
        )

    state = strongest({f.state for f in reasons if f.state} | ({State.POPUP} if popups else set()))

    future = [c for c in changes if c > t]
    next_change_at = min(future) if future else None
    midnight = next_local_midnight(t)
    valid_until = midnight if next_change_at is None else min(midnight, next_change_at)
    # The strongest state's reasons first, then the popups' in number order.
    reasons.sort(key=lambda f: (-PRECEDENCE[f.state or State.POPUP], f.popup or 0, f.rule))
    return StatusResult(
        state=state,
        popups=tuple(popups),
        reasons=tuple(reasons),
        computed_at=t,
        next_change_at=next_change_at,
        valid_until=valid_until,
        released=tuple(released),
    )
