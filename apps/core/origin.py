"""Where a change came from: the admin site, the API, a background task or a management command.

One context variable holds it for the current request, task or command, so neither the audit
(`apps.audit.services.audit_event_record`) nor the row history (`apps.core.history`) needs every
caller to pass it. It is set at the edges, never by a service:

- `apps.core.middleware.OriginMiddleware`: `/admin/…` requests are `admin`, `/api/…` are `api`;
- `config.celery`: every task body runs as `task` (a worker's task and an eager one alike);
- `apps.core.management.base.BaseCommand`: the project's management commands run as `command`.

Outside all of them (a shell, a test calling a service) `current_origin()` is the API's, the
audit's historical default.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

from django.db import models
from django.utils.translation import gettext_lazy as _


class Origin(models.TextChoices):
    """Where a change came from (the audit's `origin`, a history row's `history_origin`)."""

    ADMIN = "admin", _("admin site")
    API = "api", _("API")
    TASK = "task", _("background task")
    COMMAND = "command", _("management command")


# Outside any request, task or command (a shell, a test calling a service directly).
DEFAULT_ORIGIN = Origin.API

_current: ContextVar[Origin | None] = ContextVar("healthkit_origin", default=None)


def current_origin(default: Origin = DEFAULT_ORIGIN) -> Origin:
    """The origin of the request, task or command running now (`default` outside them: a job
    that only ever runs in the background passes Origin.TASK)."""
    value = _current.get()
    return default if value is None else value


def origin_enter(value: Origin | str) -> Token:
    """Start running as `value` until `origin_leave(token)` (for edges that cannot wrap a block in
    `origin()`, such as Celery's task_prerun / task_postrun signals)."""
    return _current.set(Origin(value))


def origin_leave(token: Token) -> None:
    _current.reset(token)


@contextmanager
def origin(value: Origin | str) -> Iterator[Origin]:
    """Run the block as coming from `value` (`with origin(Origin.TASK): …`); nested blocks win
    and the previous origin is back when the block ends, however it ends."""
    token = origin_enter(value)
    try:
        yield Origin(value)
    finally:
        origin_leave(token)
