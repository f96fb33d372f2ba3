"""Writing spreadsheets people open in Excel or WPS: a cell that starts like a formula (`=`, `+`,
`-`, `@`, a tab or a carriage return) is run as one when the file is opened, so text that came
from outside (a name, a reason, a feed's detail) could call out (`=HYPERLINK(…)`, DDE). Every
CSV or XLSX export passes its cells through `escape_formula`."""

from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(value):
    """The cell as text that a spreadsheet shows rather than runs: a leading `'` before a formula
    start. Other values (numbers, dates, None) are returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def escape_row(row: Iterable) -> list:
    """Every cell of a row through `escape_formula`."""
    return [escape_formula(cell) for cell in row]


def csv_response(filename: str, header: list[str], rows: Iterable[Iterable]):
    """A CSV download (UTF-8 with a byte-order mark, so Excel and WPS read Chinese right), every
    cell escaped, streamed so a large export never sits in memory."""
    import csv

    from django.http import StreamingHttpResponse

    class Echo:
        def write(self, value):
            return value

    writer = csv.writer(Echo())

    def lines():
        yield "\ufeff" + writer.writerow(escape_row(header))
        for row in rows:
            yield writer.writerow(escape_row(row))

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
