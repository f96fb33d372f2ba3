"""Reads of the policy in force (SPEC §8). Its value, `Policy`, is defined in `apps.policy.parameters`,
which the rules engine imports without loading any model."""

import datetime as dt

from .models import PolicyVersion
from .parameters import POLICY_PARAMETERS, Policy


def policy_at(t: dt.datetime) -> Policy:
    version = PolicyVersion.objects.in_force_at(t)
    if version is None:
        return Policy()
    return Policy(
        **{name: getattr(version, name) for name in POLICY_PARAMETERS},
        version_id=version.pk,
        effective_from=version.effective_from,
    )
