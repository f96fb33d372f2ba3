"""The `restrictions_feed` section of `manage.py bench`: the cost of one page of the restrictions
feed (`apps.status.restrictions.restrictions_page`, page_size 1,000) at the first, middle and last
page of each list, so a page's cost is seen flat whatever its depth (issue 16).

Each position is reached by a cursor made directly (the row at that offset, found once with OFFSET,
unmeasured), then the page is read `repeats` times, alternating positions in rounds; the median is
reported. Beside it, the database's own time for the `restricted` page (EXPLAIN ANALYZE), with the
plan's node types (no Sort node may be there), and the same page with the keyset condition as it was
before (`time > at OR (time = at AND id > id)`, which PostgreSQL could not use as an index bound):
the quadratic walk this section is about."""

import json
import statistics
import time

from django.db import connection, transaction
from django.db.models import Q

from apps.core.clock import now
from apps.status.restrictions import Cursor, Position, lifted_rows, restricted_rows, restrictions_page
from apps.status.services import status_sweep

PAGE = 1000
POSITIONS = ("first", "middle", "last")


def _restricted_rows(as_of):
    return restricted_rows(as_of=as_of, since=None, after=Position()).values_list("state_since", "person_id")


def _lifted_rows(as_of):
    return lifted_rows(as_of=as_of, since=None, after=Position()).filter(current=True).values_list("at", "id")


def _position(rows, total: int, where: str) -> Position:
    """The cursor position just before the page at `where` (first: the list's start)."""
    offset = {"first": 0, "middle": max(0, total // 2 - 1), "last": max(0, total - PAGE - 1)}[where]
    if offset == 0:
        return Position()
    at, pk = rows[offset]
    return Position(at=at, id=pk)


def _plan(qs) -> tuple[float, list[str]]:
    """EXPLAIN (ANALYZE, FORMAT JSON) of a queryset: execution ms and the plan's node types."""
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    nodes = []

    def walk(node):
        nodes.append(node["Node Type"])
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    return round(plan[0]["Execution Time"], 3), nodes


def _restricted_page_qs(as_of, position: Position, *, before: bool):
    """The `restricted` page's query as restrictions_page runs it, or with the old keyset condition."""
    if not before or position.at is None:
        return restricted_rows(as_of=as_of, since=None, after=position)[: PAGE + 1]
    old = Q(state_since__gt=position.at) | Q(state_since=position.at, person_id__gt=position.id)
    return restricted_rows(as_of=as_of, since=None, after=Position()).filter(old)[: PAGE + 1]


LIFTED_SHARE = 3  # one in this many of the restricted persons is lifted for the section's run


def _lifted_ensure() -> int:
    """A generated population has hardly anyone lifted (its popups never end in the bench's days):
    lift one in LIFTED_SHARE of the restricted persons — their status green since a moment of the
    last day and the transition of that moment — inside the section's transaction, which is rolled
    back at the end (the transitions are append-only for everyone else)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_lifted ON COMMIT DROP AS SELECT person_id, state AS from_state,"
            " now() - random() * interval '1 day' AS at FROM status_personstatus"
            " WHERE NOT state = 'green' AND person_id %% %s = 0",
            [LIFTED_SHARE],
        )
        cursor.execute(
            "UPDATE status_personstatus s SET state = 'green', state_since = l.at FROM bench_lifted l"
            " WHERE s.person_id = l.person_id"
        )
        cursor.execute(
            "INSERT INTO status_statustransition (person_id, from_state, to_state, at)"
            " SELECT person_id, from_state, 'green', at FROM bench_lifted"
        )
        return cursor.rowcount


def restrictions_feed(ctx) -> dict:
    while status_sweep(limit=100_000):  # nothing due: the first page's catch-up has nothing to do
        pass
    with transaction.atomic():
        result = _measure(ctx, lifted_added=_lifted_ensure())
        transaction.set_rollback(True)
    return result


def _measure(ctx, *, lifted_added: int) -> dict:
    repeats = 3 if ctx.settings.smoke else 9
    with connection.cursor() as cursor:  # the planner's statistics of the rows as they now are
        cursor.execute("ANALYZE status_personstatus")
        cursor.execute("ANALYZE status_statustransition")
    as_of = now()
    lists = {
        "restricted": _restricted_rows(as_of),
        "lifted": _lifted_rows(as_of),
    }
    totals = {name: rows.count() for name, rows in lists.items()}
    cursors = {}
    for name, rows in lists.items():
        for where in POSITIONS:
            position = _position(rows, totals[name], where)
            done = Position(done=True)
            cursor = Cursor(
                changed_since=None,
                as_of=as_of,
                restricted=position if name == "restricted" else done,
                lifted=position if name == "lifted" else done,
            )
            cursors[(name, where)] = (cursor.encode(), position)
    samples = {key: [] for key in cursors}
    for _round in range(repeats):  # positions alternate within each round
        for key, (token, _at) in cursors.items():
            started = time.perf_counter()
            page = restrictions_page(cursor=token, page_size=PAGE)
            samples[key].append((time.perf_counter() - started) * 1000)
            assert len(page.restricted) + len(page.lifted) <= PAGE
    result = {
        "persons": ctx.persons,
        "page_size": PAGE,
        "as_of": as_of.isoformat(),
        "totals": totals,
        "lifted_added_for_the_run": lifted_added,
    }
    for name in lists:
        result[name] = {
            where: {"median_ms": round(statistics.median(samples[(name, where)]), 2)} for where in POSITIONS
        }
    for where in POSITIONS:
        position = cursors[("restricted", where)][1]
        db_ms, nodes = _plan(_restricted_page_qs(as_of, position, before=False))
        old_ms, old_nodes = _plan(_restricted_page_qs(as_of, position, before=True))
        result["restricted"][where].update(
            {
                "db_ms": db_ms,
                "plan": nodes,
                "sort_in_plan": "Sort" in nodes,
                "db_ms_before": old_ms,
                "plan_before": old_nodes,
            }
        )
        position = cursors[("lifted", where)][1]
        db_ms, nodes = _plan(lifted_rows(as_of=as_of, since=None, after=position)[: PAGE + 1])
        result["lifted"][where].update({"db_ms": db_ms, "plan": nodes, "sort_in_plan": "Sort" in nodes})
    first = result["restricted"]["first"]["median_ms"]
    last = result["restricted"]["last"]["median_ms"]
    result.update(
        {
            "method": f"restrictions_page(cursor=…, page_size={PAGE}) at each list's first, middle and last page, "
            f"{repeats} alternating rounds, median; EXPLAIN ANALYZE of the restricted page now and with the old "
            "keyset condition",
            "ratio": round(last / first, 3) if first else None,
            "ratio_of": "last restricted page ms / first restricted page ms",
            "target": "<= 1.5",
            "walk_estimate_seconds": round(totals["restricted"] / PAGE * statistics.mean([first, last]) / 1000, 1),
        }
    )
    return result
