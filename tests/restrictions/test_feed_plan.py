"""Each page of the restrictions feed is a range scan of an index in the list's own order, entered
at the cursor (issue 16): no Sort node over the non-green rows, and the cursor is an index bound,
so a page costs the same at any depth (the bench section `restrictions_feed` measures it at
100,000 and 1,000,000 persons). PostgreSQL only: skipped elsewhere, except when
HEALTHKIT_REQUIRE_SERVICES=1 (CI), where it fails.

The planner is told to avoid sorts, sequential and bitmap scans: it keeps a Sort only when no
index can give the order, so the plan proves what an index can do whatever the table's size."""

import datetime as dt
import json

import pytest
from django.db import connection

from apps.core.clock import now
from apps.status.restrictions import Position, lifted_rows, restricted_rows
from tests.faults.helpers import REQUIRED

on_sqlite = connection.vendor != "postgresql"
pytestmark = pytest.mark.skipif(on_sqlite and not REQUIRED, reason="query plans of PostgreSQL")


def plan_of(qs) -> list[dict]:
    assert connection.vendor == "postgresql", "HEALTHKIT_REQUIRE_SERVICES=1: these plans need PostgreSQL"
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    nodes = []

    def walk(node):
        nodes.append(node)
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    return nodes


def scan_of(nodes: list[dict], index: str) -> dict:
    scans = [n for n in nodes if n.get("Index Name") == index]
    assert scans, [n["Node Type"] for n in nodes]
    return scans[0]


@pytest.mark.parametrize("since", [None, dt.timedelta(days=3)])
def test_a_restricted_page_is_a_range_scan_of_the_partial_index_from_the_cursor(db, since):
    t = now()
    after = Position(at=t - dt.timedelta(days=1), id=12345)
    nodes = plan_of(restricted_rows(as_of=t, since=t - since if since else None, after=after)[:1001])
    assert "Sort" not in [n["Node Type"] for n in nodes]
    scan = scan_of(nodes, "status_restricted")
    assert scan["Node Type"] in ("Index Scan", "Index Only Scan")
    assert "state_since >=" in scan["Index Cond"]  # entered at the cursor, not walked from the start


def test_the_first_restricted_page_reads_the_index_from_its_start_without_a_sort(db):
    nodes = plan_of(restricted_rows(as_of=now(), since=None, after=Position())[:1001])
    assert "Sort" not in [n["Node Type"] for n in nodes]
    scan_of(nodes, "status_restricted")


def test_a_lifted_page_is_a_range_scan_of_the_transitions_index_from_the_cursor(db):
    t = now()
    nodes = plan_of(lifted_rows(as_of=t, since=None, after=Position(at=t - dt.timedelta(days=1), id=99))[:1001])
    assert "Sort" not in [n["Node Type"] for n in nodes]
    scan = scan_of(nodes, "transition_to_at")
    assert "at >=" in scan["Index Cond"] and "to_state" in scan["Index Cond"]
