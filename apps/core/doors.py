"""Narrow doors: how a lower layer triggers a higher one without importing it.

The layers point one way (README: Layout; the import-linter contract in pyproject.toml): evidence,
policy and people sit below the status engine, and the engine below the workflows. Yet a new stay
must mark its person's status dirty, a designation must fan out, and a release must be reviewed.
Each such need is one named `Door` here. The higher app opens it once, in its `AppConfig.ready()`
(`doors.status_mark_dirty.open(status_mark_dirty)`), and the lower app calls it
(`doors.status_mark_dirty(person_ids=ids)`) without knowing who answers.

A door has exactly one implementation: opening it twice with different functions is a mistake
caught at start-up, and calling a door nobody opened raises instead of silently doing nothing, so a
missing app in INSTALLED_APPS cannot drop recomputations or reviews.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured


class Door:
    """One call from a lower layer to a higher one, answered by the function the higher app opens."""

    def __init__(self, name: str, doc: str) -> None:
        self.name = name
        self.__doc__ = doc
        self._fn: Callable[..., Any] | None = None

    def open(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Register `fn` as the answer (idempotent for the same function); returns it, so it can
        decorate."""
        if self._fn is not None and self._fn is not fn:
            raise ImproperlyConfigured(f"door {self.name} is already opened by {self._fn.__module__}")
        self._fn = fn
        return fn

    @property
    def is_open(self) -> bool:
        return self._fn is not None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._fn is None:
            raise ImproperlyConfigured(f"door {self.name} is not opened: is its app in INSTALLED_APPS?")
        return self._fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<Door {self.name}>"


status_mark_dirty = Door(
    "status.mark_dirty",
    "Mark these persons' statuses dirty and schedule their recomputation after commit "
    "(person_ids=...). Opened by apps.status.",
)
status_fanout_areas = Door(
    "status.fanout_areas",
    "A designation, local-case report or border-port change in these counties: mark everyone who may "
    "be affected (county_codes=...); returns how many. Opened by apps.status.",
)
casework_record_corrected = Door(
    "casework.record_corrected",
    "A row a superuser corrected (or added) by hand in the admin (actor=, obj=, reason=, fields=, "
    "created=, previous_person_id=): audit it and recompute the statuses it can affect. Called by "
    "apps.core.admin.SuperuserWritesMixin, opened by apps.casework.",
)
appeals_to_resolve = Door(
    "appeals.to_resolve",
    "The open appeals this user resolves (user): a queryset for the work queue of apps.casework. "
    "Opened by apps.appeals.",
)
access_why_visible = Door(
    "access.why_visible",
    "The work item through which this user sees this person (user, person), named in the access "
    "log; '' when none. Called by apps.audit, opened by apps.accounts.",
)
release_recorded = Door(
    "reviews.release_recorded",
    "New releases in the current transaction (release_ids=...; a bulk release passes all of them): "
    "one pending review each, run after commit. Called by apps.casework, opened by apps.reviews.",
)
release_reraised = Door(
    "reviews.release_reraised",
    "Popups these releases had released came back at `at` (release_ids=..., at=...): their "
    "reviews are re-checked after commit. Called by apps.status, opened by apps.reviews.",
)
reviews_referred_queue = Door(
    "reviews.referred_queue",
    "The referred release reviews this user closes, as work-queue items (user=, limit=): "
    "(items, count). Called by apps.casework's work queue, opened by apps.reviews.",
)
access_require = Door(
    "access.require",
    "The access layer's `require(user, action, obj=None, **context)` for the layers below accounts "
    "(reading the audit): raises NotPermitted / NotFoundInJurisdiction. Opened by apps.accounts.",
)
status_due_by = Door(
    "status.due_by",
    "New policy parameters in force from this moment (at=...): every stored status whose next "
    "change is later is due by then; returns how many. Opened by apps.status.",
)
