"""The rules engine: a pure function from a person's facts and a moment `t` to a status.

No database access happens here: `apps.status.selectors.person_facts` gathers the facts, and
`evaluate(facts, t)` decides. Same facts and `t`, same answer (SPEC §1–4, §10).
"""

from .evaluate import evaluate
from .facts import Facts
from .result import Finding, StatusResult

__all__ = ["evaluate", "Facts", "Finding", "StatusResult"]
