"""Reading a hotel's guest list (CSV or Excel) into check-ins, row by row, with the errors of each
row. The file's first row names the columns, in English or Chinese:

| column | also | value |
| --- | --- | --- |
| `id_type` | 证件类型 | resident_id (default when empty), hk_macao_permit, taiwan_permit, passport, foreign_permanent_residence |
| `id_number` | 证件号码 | the ID number |
| `name` | 姓名 | the guest's name |
| `checked_in_at` | 入住时间 | `2021-08-16 14:30` (Beijing time) or ISO 8601 with an offset; empty: now |
| `nat_sampled_at` | 核酸采样时间 | when the NAT was sampled; empty: no NAT |
| `nat_result` | 核酸结果 | negative / positive (阴性 / 阳性) |
| `nat_at_hotel` | 酒店检测 | yes / no (是 / 否): the test was taken at the hotel |

Row numbers are the spreadsheet's: the header is row 1, the first guest row 2.
"""

import csv
import datetime as dt
import io

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core.clock import LOCAL_TZ
from apps.evidence.choices import LabResultValue
from apps.people.choices import IdType

from .services import GuestInput, NatInput

MAX_ROWS = 5000
COLUMNS = {
    "id_type": ("id_type", "证件类型"),
    "id_number": ("id_number", "证件号码", "身份证号"),
    "name": ("name", "姓名"),
    "checked_in_at": ("checked_in_at", "入住时间"),
    "nat_sampled_at": ("nat_sampled_at", "核酸采样时间"),
    "nat_result": ("nat_result", "核酸结果"),
    "nat_at_hotel": ("nat_at_hotel", "酒店检测"),
}
REQUIRED = ("id_number",)
RESULTS = {"negative": "negative", "阴性": "negative", "positive": "positive", "阳性": "positive"}
YES = {"yes", "y", "true", "1", "是"}
NO = {"no", "n", "false", "0", "否", ""}
TIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y-%m-%d")


class GuestListError(Exception):
    """The file as a whole cannot be read (format, header, size)."""


def read_rows(upload) -> list[tuple[int, dict]]:
    """The rows of a `.csv` or `.xlsx` file as (row number, {column: text or value})."""
    name = (getattr(upload, "name", "") or "").lower()
    data = upload.read()
    if name.endswith(".xlsx"):
        table = _xlsx_table(data)
    elif name.endswith(".csv") or name.endswith(".txt"):
        table = _csv_table(data)
    else:
        raise GuestListError(gettext_lazy("Upload a .csv or .xlsx file."))
    if not table:
        raise GuestListError(_("The file is empty."))
    header = [str(h or "").strip().lower() for h in table[0]]
    columns = {}
    for key, names in COLUMNS.items():
        for index, title in enumerate(header):
            if title in names:
                columns[key] = index
    missing = [key for key in REQUIRED if key not in columns]
    if missing:
        raise GuestListError(_("The first row must name the columns; missing: %(c)s.") % {"c": ", ".join(missing)})
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        if all(c is None or str(c).strip() == "" for c in cells):
            continue
        rows.append((number, {key: cells[i] if i < len(cells) else None for key, i in columns.items()}))
    if not rows:
        raise GuestListError(_("The file has no guest rows."))
    if len(rows) > MAX_ROWS:
        raise GuestListError(_("At most %(n)d guests per file.") % {"n": MAX_ROWS})
    return rows


def _csv_table(data: bytes) -> list[list]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise GuestListError(_("The CSV file is neither UTF-8 nor GB18030 text."))
    return [row for row in csv.reader(io.StringIO(text))]


def _xlsx_table(data: bytes) -> list[list]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise GuestListError(_("This is not a readable Excel (.xlsx) file.")) from exc
    sheet = workbook.worksheets[0]
    table = [list(row) for row in sheet.iter_rows(values_only=True)]
    workbook.close()
    return table


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def parse_time(value) -> dt.datetime | None:
    """A cell as an aware moment: an Excel date, ISO 8601 with an offset, or local (Beijing) time."""
    if value is None or _text(value) == "":
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=LOCAL_TZ)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time.min, tzinfo=LOCAL_TZ)
    text = _text(value)
    try:
        moment = dt.datetime.fromisoformat(text)
        return moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_TZ)
    except ValueError:
        pass
    for fmt in TIME_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).replace(tzinfo=LOCAL_TZ)
        except ValueError:
            continue
    raise ValueError(text)


def to_guest(cells: dict) -> tuple[GuestInput | None, dict[str, list[str]]]:
    """One row as a check-in, or its field errors."""
    errors: dict[str, list[str]] = {}
    id_type = _text(cells.get("id_type")) or IdType.RESIDENT_ID
    if id_type not in IdType.values:
        errors["id_type"] = [_("Unknown ID type %(t)s.") % {"t": id_type}]
    id_number = _text(cells.get("id_number"))
    if not id_number:
        errors["id_number"] = [_("The ID number is required.")]
    times = {}
    for key in ("checked_in_at", "nat_sampled_at"):
        try:
            times[key] = parse_time(cells.get(key))
        except ValueError:
            errors[key] = [_("Write the time as 2021-08-16 14:30 (Beijing time).")]
    result_text = _text(cells.get("nat_result")).lower()
    result = RESULTS.get(result_text, "")
    if result_text and not result:
        errors["nat_result"] = [_("The NAT result is negative or positive (阴性 / 阳性).")]
    at_hotel_text = _text(cells.get("nat_at_hotel")).lower()
    if at_hotel_text not in YES | NO:
        errors["nat_at_hotel"] = [_("Write yes or no (是 / 否).")]
    nat = None
    sampled_at = times.get("nat_sampled_at")
    if sampled_at is not None and not result and "nat_result" not in errors:
        errors["nat_result"] = [_("Give the result of the NAT.")]
    if result and sampled_at is None and "nat_sampled_at" not in errors:
        errors["nat_sampled_at"] = [_("Give the time the NAT was sampled.")]
    if errors:
        return None, errors
    if result and sampled_at is not None:
        nat = NatInput(sampled_at=sampled_at, result=LabResultValue(result), at_hotel=at_hotel_text in YES)
    return (
        GuestInput(
            id_type=id_type,
            id_number=id_number,
            name=_text(cells.get("name")),
            checked_in_at=times.get("checked_in_at"),
            nat=nat,
        ),
        {},
    )


def parse_guest_list(upload) -> tuple[list[tuple[int, GuestInput]], dict[int, dict[str, list[str]]]]:
    """The guests of a file and the errors of the rows that could not be read, by row number.
    Raises `GuestListError` when the file as a whole cannot be read."""
    guests, errors = [], {}
    for number, cells in read_rows(upload):
        guest, row_errors = to_guest(cells)
        if row_errors:
            errors[number] = row_errors
        else:
            guests.append((number, guest))
    return guests, errors
