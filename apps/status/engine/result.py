"""What the engine answers: findings (one per rule that fired) and the status they make."""

import datetime as dt
from dataclasses import dataclass, field

from .texts import Text


@dataclass(frozen=True)
class Evidence:
    kind: str  # stay, designation, local_case, border_port, lab_result, health_event, ...
    id: int
    ingestion_id: int = 0

    def as_json(self) -> dict:
        return {"kind": self.kind, "id": str(self.id)}


@dataclass(frozen=True)
class Finding:
    """One rule that fired: for popups `popup` is its number, for colours `state` is set."""

    rule: str
    summary: Text  # what was found, rendered in the reader's language when shown
    clears: Text  # what clears it
    evidence: tuple[Evidence, ...] = ()
    since: dt.datetime | None = None
    clears_at: dt.datetime | None = None
    popup: int | None = None
    state: str | None = None
    after_release: int | None = None

    def as_json(self) -> dict:
        data = {
            "rule": self.rule,
            "summary": self.summary.as_json(),
            "clears": self.clears.as_json(),
            "evidence": [e.as_json() for e in self.evidence],
            "since": self.since.isoformat() if self.since else None,
            "clears_at": self.clears_at.isoformat() if self.clears_at else None,
        }
        if self.popup is not None:
            data["popup"] = self.popup
        if self.state is not None:
            data["state"] = self.state
        if self.after_release is not None:
            data["after_release"] = str(self.after_release)
        return data


@dataclass
class RuleOutcome:
    """What one rule module returns: its findings and the future moments its answer can change."""

    findings: list[Finding] = field(default_factory=list)
    changes: list[dt.datetime] = field(default_factory=list)


@dataclass(frozen=True)
class PopupState:
    number: int
    since: dt.datetime
    clears: str  # PopupClears: "auto" or "manual_or_auto"
    clears_at: dt.datetime | None
    # The policy parameters its title and guidance name (PopupDefinition.policy_params), as in
    # force when it was computed: the row is recomputed when a new policy takes effect.
    params: tuple[tuple[str, int], ...] = ()

    def as_json(self) -> dict:
        data = {
            "number": self.number,
            "since": self.since.isoformat(),
            "clears": self.clears,
            "clears_at": self.clears_at.isoformat() if self.clears_at else None,
        }
        if self.params:
            data["params"] = dict(self.params)
        return data


@dataclass(frozen=True)
class StatusResult:
    state: str
    popups: tuple[PopupState, ...]
    reasons: tuple[Finding, ...]
    computed_at: dt.datetime
    next_change_at: dt.datetime | None
    valid_until: dt.datetime
    released: tuple[int, ...] = ()  # popups held back by a release
