"""The policy's parameters (SPEC §8) as a plain value: what the rules engine reads, with no model
behind it (the engine loads no models: the contract `engine` in pyproject.toml). Which version is
in force at a moment is read by `apps.policy.selectors.policy_at`."""

import datetime as dt
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Policy:
    """The parameters of SPEC §8 in force at a moment (defaults when no version is)."""

    lookback_days: int = 14
    local_case_clear_days: int = 14
    telecom_min_stay_hours: int = 4
    inbound_quarantine_days: int = 21
    popup4_grace_hours: int = 72
    entry_nat_window_hours: int = 48
    hotel_nat_validity_days: int = 7
    phone_unbind_days: int = 14
    review_burst_per_hour: int = 30  # apps.reviews: the release reviews' parameters
    working_hours_start: int = 8
    working_hours_end: int = 20
    reraised_within_hours: int = 72
    version_id: int | None = None
    effective_from: dt.datetime | None = None

    @property
    def lookback(self) -> dt.timedelta:
        return dt.timedelta(days=self.lookback_days)


POLICY_PARAMETERS = tuple(f.name for f in fields(Policy) if f.name not in ("version_id", "effective_from"))
