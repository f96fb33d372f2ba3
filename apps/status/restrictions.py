"""The restrictions feed for rail and air ticket sales (API.md "Restrictions"): who is not green
now, and who turned green, since a moment — read set-based from the materialised statuses and
their transitions, one keyset page at a time, so millions of rows stream in constant memory.

- `restricted`: persons whose stored state is not green and began at or after `changed_since`
  (all such persons without it), ordered by `(state_since, person id)`.
- `lifted`: persons whose latest transition is to green and happened at or after
  `changed_since`, ordered by `(transition time, transition id)`. A person appears in at most
  one list: the one of their current state.

The first page brings up to date every status that is due (past its `next_change_at`) or marked
dirty before reading, and fixes `as_of`: every change the response can know of happened at or
before it, so a client that follows `next` to the end and then asks again with
`changed_since=as_of` misses nothing. Later pages keep the same bounds (they live in the cursor).
"""

import datetime as dt
import logging
from dataclasses import dataclass

from django.core import signing
from django.core.exceptions import ValidationError
from django.db.models import BooleanField, ExpressionWrapper, F, Min, Q
from django.utils.translation import gettext as _

from apps.core import crypto
from apps.core.clock import local_iso, now

from .choices import State
from .models import PersonStatus, StatusTransition
from .services import CHUNK, status_refresh_many

DEFAULT_PAGE_SIZE = 1000
MAX_PAGE_SIZE = 10_000
# How many due statuses one request brings up to date before reading; the periodic sweep keeps
# the backlog far below this. Beyond it, `as_of` stops before the earliest change still pending.
CATCH_UP_LIMIT = 20_000
NOT_GREEN = (State.POPUP, State.YELLOW, State.RED)
# The rows of the `restricted` list, exactly as the partial index `status_restricted` states them
# (apps/status/models.py), so the planner proves the index usable by matching the text.
NOT_GREEN_ROWS = ~Q(state=State.GREEN)
SALT = "status.restrictions"
DONE = "done"


@dataclass(frozen=True)
class Position:
    """Where a list stands: after the row at `(at, id)`, before its first row (None), or done."""

    at: dt.datetime | None = None
    id: int | None = None
    done: bool = False

    def as_json(self):
        if self.done:
            return DONE
        return None if self.at is None else [self.at.isoformat(), self.id]

    @classmethod
    def from_json(cls, value) -> "Position":
        if value == DONE:
            return cls(done=True)
        if value is None:
            return cls()
        return cls(at=dt.datetime.fromisoformat(value[0]), id=int(value[1]))


@dataclass(frozen=True)
class Cursor:
    changed_since: dt.datetime | None
    as_of: dt.datetime
    restricted: Position = Position()
    lifted: Position = Position()

    def encode(self) -> str:
        data = {
            "s": self.changed_since.isoformat() if self.changed_since else None,
            "a": self.as_of.isoformat(),
            "r": self.restricted.as_json(),
            "l": self.lifted.as_json(),
        }
        return signing.dumps(data, salt=SALT, compress=True)

    @classmethod
    def decode(cls, token: str) -> "Cursor":
        try:
            data = signing.loads(token, salt=SALT)
            return cls(
                changed_since=dt.datetime.fromisoformat(data["s"]) if data["s"] else None,
                as_of=dt.datetime.fromisoformat(data["a"]),
                restricted=Position.from_json(data["r"]),
                lifted=Position.from_json(data["l"]),
            )
        except (signing.BadSignature, KeyError, TypeError, ValueError, IndexError):
            raise ValidationError({"cursor": [_("This cursor is not valid; start again without it.")]}) from None


@dataclass
class RestrictionsPage:
    restricted: list[dict]
    lifted: list[dict]
    as_of: dt.datetime
    next_cursor: str | None


# Statuses are dated when computed, inside transactions that commit a moment later. `as_of` stays
# this far before the start of the oldest transaction still open (it may yet commit a change dated
# after its start), which also covers clock skew between the app servers and the database.
COMMIT_MARGIN = dt.timedelta(seconds=2)
HELD_BACK_WARNING = dt.timedelta(minutes=1)
logger = logging.getLogger(__name__)


def open_transactions_since() -> dt.datetime | None:
    """When the oldest transaction of another client on this database began, if one is open now
    (PostgreSQL); None on SQLite, where one writer at a time commits before anyone reads."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        # Only transactions that have written (hold a transaction id): a recomputation locks its
        # status rows before it dates them, so it has one; a long read (a dump, a report) does
        # not hold the feed back. Seeing other roles' sessions needs pg_read_all_stats.
        cursor.execute(
            "SELECT min(xact_start) FROM pg_stat_activity WHERE datname = current_database()"
            " AND backend_type = 'client backend' AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
            " AND backend_xid IS NOT NULL"
        )
        oldest = cursor.fetchone()[0]
    if oldest is not None and now() - oldest > HELD_BACK_WARNING:
        logger.warning("Restrictions feed held back by a transaction open since %s", oldest.isoformat())
    return oldest


def restrictions_catch_up(*, limit: int = CATCH_UP_LIMIT) -> dt.datetime:
    """Recompute the statuses that are due or dirty (in chunks, by person id) and return `as_of`:
    now, or — when more than `limit` were due — just before the earliest clock-driven change
    still pending (its transition will be dated then); and never later than the start of a
    transaction still open elsewhere, less COMMIT_MARGIN: a change it commits after this read is
    dated after `as_of`, so the next poll (`changed_since=as_of`) brings it."""
    t = _catch_up(limit=limit)
    oldest = open_transactions_since()
    return min(t, oldest - COMMIT_MARGIN) if oldest is not None else t


def _catch_up(*, limit: int) -> dt.datetime:
    t = now()
    due = Q(next_change_at__lte=t) | Q(dirty_since__isnull=False)
    done, last = 0, 0
    while done < limit:
        ids = list(
            PersonStatus.objects.filter(due, person_id__gt=last)
            .order_by("person_id")
            .values_list("person_id", flat=True)[: min(CHUNK, limit - done)]
        )
        if not ids:
            return t
        status_refresh_many(person_ids=ids)
        done += len(ids)
        last = ids[-1]
    pending = PersonStatus.objects.filter(next_change_at__lte=t, dirty_since__isnull=True).aggregate(
        m=Min("next_change_at")
    )["m"]
    return min(t, pending - dt.timedelta(microseconds=1)) if pending else t


def _after(position: Position, time_field: str, id_field: str) -> Q:
    """Rows after `(at, id)` in `(time, id)` order, written so the index on `(time, id)` is
    entered at `at` (the `>=` is an index bound) and only the rows sharing that very moment are
    filtered: a bare `time > at OR (time = at AND id > id)` is no index bound, and PostgreSQL walked
    the index from its start to the cursor on every page (quadratic over the whole feed)."""
    if position.at is None:
        return Q()
    return Q(**{f"{time_field}__gte": position.at}) & (
        Q(**{f"{time_field}__gt": position.at}) | Q(**{f"{id_field}__gt": position.id})
    )


def _clear_id(ciphertext: str) -> str:
    return crypto.decrypt(ciphertext)


def restricted_rows(*, as_of: dt.datetime, since: dt.datetime | None, after: Position):
    """The `restricted` list from `after` on, in its order: (person id, state, since, ref, ID type,
    encrypted ID). NOT_GREEN_ROWS is the condition of the partial index `status_restricted` on
    (state_since, person_id), so a page is one range scan of it from the cursor in the list's own
    order (no sort of every non-green row), whatever the page's depth."""
    rows = PersonStatus.objects.filter(NOT_GREEN_ROWS, state_since__lte=as_of)
    if since is not None:
        rows = rows.filter(state_since__gte=since)
    return (
        rows.filter(_after(after, "state_since", "person_id"))
        .order_by("state_since", "person_id")
        .values_list("person_id", "state", "state_since", "person__ref", "person__id_type", "person__id_encrypted")
    )


def lifted_rows(*, as_of: dt.datetime, since: dt.datetime | None, after: Position):
    """The transitions to green from `after` on, in the `lifted` list's order: (transition id, at,
    ref, ID type, encrypted ID, current). `current` says whether the transition is the person's
    latest (their status still green since its moment); only those are listed. A range scan of the
    index `transition_to_at` (to_state, at, id) from the cursor, every row kept: filtered in the
    join, the planner took `state_since = at` for a rare match and sorted every lifted row instead
    of walking the index (`_lifted_page` filters in Python)."""
    rows = StatusTransition.objects.filter(to_state=State.GREEN, at__lte=as_of)
    if since is not None:
        rows = rows.filter(at__gte=since)
    current = Q(person__status__state=State.GREEN, person__status__state_since=F("at"))
    return (
        rows.filter(_after(after, "at", "id"))
        .annotate(current=ExpressionWrapper(current, output_field=BooleanField()))
        .order_by("at", "id")
        .values_list("id", "at", "person__ref", "person__id_type", "person__id_encrypted", "current")
    )


# How many batches of page_size + 1 transitions one page of the `lifted` list reads at most. Past
# them the page ends short (even empty), its cursor after the last transition read: a page's cost
# stays bounded however many superseded transitions to green lie ahead (a million persons' fan-outs
# left tens of thousands, and the last page read them all: 3.6 s).
LIFTED_SCAN_BATCHES = 10


def _lifted_page(
    *, as_of: dt.datetime, since: dt.datetime | None, after: Position, page_size: int
) -> tuple[list[tuple], Position | None]:
    """Up to page_size + 1 rows of the `lifted` list after `after`: transitions read page_size + 1
    at a time in index order, the superseded ones dropped (one query unless some were), at most
    LIFTED_SCAN_BATCHES batches. With the rows, where the list goes on when the scan stopped
    short of page_size + 1 rows with transitions still unread (None: it reached the end)."""
    rows, position, batch = [], after, page_size + 1
    for _batch in range(LIFTED_SCAN_BATCHES):
        candidates = list(lifted_rows(as_of=as_of, since=since, after=position)[:batch])
        rows += [row[:-1] for row in candidates if row[-1]]
        if len(candidates) < batch:
            return rows[:batch], None
        position = Position(at=candidates[-1][1], id=candidates[-1][0])
        if len(rows) >= batch:
            return rows[:batch], None
    return rows, position


def restrictions_page(
    *, changed_since: dt.datetime | None = None, cursor: str | None = None, page_size: int = DEFAULT_PAGE_SIZE
) -> RestrictionsPage:
    """One page of the feed: up to `page_size` rows of each list, and the cursor of the next page
    (None once both lists are exhausted). Two indexed range scans a page whatever the page number
    (the `lifted` list's up to LIFTED_SCAN_BATCHES where superseded transitions lie ahead: a page
    may then be short, even empty, with a cursor to follow)."""
    page_size = max(1, min(int(page_size), MAX_PAGE_SIZE))
    if cursor:
        position = Cursor.decode(cursor)
    else:
        position = Cursor(changed_since=changed_since, as_of=restrictions_catch_up())
    since, as_of = position.changed_since, position.as_of

    restricted, next_restricted = [], Position(done=True)
    if not position.restricted.done:
        rows = list(restricted_rows(as_of=as_of, since=since, after=position.restricted)[: page_size + 1])
        more = len(rows) > page_size
        rows = rows[:page_size]
        restricted = [
            {"ref": ref, "id_type": id_type, "id_number": _clear_id(secret), "state": state, "since": local_iso(at)}
            for _pid, state, at, ref, id_type, secret in rows
        ]
        if more:
            next_restricted = Position(at=rows[-1][2], id=rows[-1][0])

    lifted, next_lifted = [], Position(done=True)
    if not position.lifted.done:
        rows, scanned_to = _lifted_page(as_of=as_of, since=since, after=position.lifted, page_size=page_size)
        more = len(rows) > page_size
        rows = rows[:page_size]
        lifted = [
            {"ref": ref, "id_type": id_type, "id_number": _clear_id(secret), "at": local_iso(at)}
            for _id, at, ref, id_type, secret in rows
        ]
        if more:
            next_lifted = Position(at=rows[-1][1], id=rows[-1][0])
        elif scanned_to is not None:  # the scan's bound: the list goes on after what it read
            next_lifted = scanned_to

    next_cursor = None
    if not (next_restricted.done and next_lifted.done):
        next_cursor = Cursor(changed_since=since, as_of=as_of, restricted=next_restricted, lifted=next_lifted).encode()
    return RestrictionsPage(restricted=restricted, lifted=lifted, as_of=as_of, next_cursor=next_cursor)
