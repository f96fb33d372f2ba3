"""`apps.core.bulk.in_array`: `field IN values` as one array parameter on PostgreSQL (psycopg
would otherwise parse a statement of a thousand placeholders anew each time), the ORM's `__in`
elsewhere; the same rows either way, alone or OR-ed with other conditions."""

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from apps.areas.models import Area
from apps.core.bulk import in_array

pytestmark = pytest.mark.django_db


def _codes(condition) -> set[str]:
    return set(Area.objects.filter(condition).values_list("code", flat=True))


def test_text_values_find_exactly_the_rows_named(areas):
    known = sorted(Area.objects.values_list("code", flat=True)[:3])
    assert len(known) == 3
    missing = [f"x{i:05d}" for i in range(2000)]  # more values than a chunk; none of them an area's
    with CaptureQueriesContext(connection) as queries:
        found = _codes(in_array(Area, "code", [*known, *missing], "text"))
    assert found == set(known)
    sql = queries.captured_queries[-1]["sql"]
    if connection.vendor == "postgresql":
        assert "= ANY(" in sql and " IN (" not in sql  # one array parameter, not 2,003 placeholders
    else:
        assert " IN (" in sql


def test_empty_values_match_nothing(areas):
    assert _codes(in_array(Area, "code", [], "text")) == set()


def test_or_ed_with_other_conditions(areas):
    first, second = sorted(Area.objects.values_list("code", flat=True)[:2])
    level = Area.objects.get(code=first).level
    match = Q(Q(level=level), in_array(Area, "code", [first], "text")) | Q(in_array(Area, "code", [second], "text"))
    assert _codes(match) == {first, second}
    other = "province" if level != "province" else "county"
    assert _codes(Q(Q(level=other), in_array(Area, "code", [first], "text"))) == set()
