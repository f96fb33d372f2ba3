"""The write path of the areas app: loading the national administrative divisions (SPEC §6). The
policy placed on them is published by apps.policy.services."""

import csv
from pathlib import Path

from django.db import transaction

from .choices import AreaLevel
from .models import Area

DIVISIONS_CSV = Path(__file__).resolve().parent / "data" / "divisions.csv"
COLUMNS = ("code", "name", "level", "parent_code", "city_code", "province_code", "acts_as_county", "full_name")
# Model fields a row sets, besides the code; FK values are codes (attnames) in the rows read.
UPDATE_FIELDS = ("name", "full_name", "level", "parent", "city", "province", "acts_as_county")
LEVEL_ORDER = {AreaLevel.PROVINCE: 0, AreaLevel.CITY: 1, AreaLevel.COUNTY: 2}
BATCH_SIZE = 500


class DivisionsFileError(ValueError):
    """The divisions file is not one `areas_load` can load; nothing was written."""


def _divisions_read(path: Path) -> dict[str, dict]:
    """code → the Area attributes of that row, checked: known levels, six-digit codes, and every
    parent, city and province code a row names present in the file."""
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        missing = set(COLUMNS) - set(reader.fieldnames or ())
        if missing:
            raise DivisionsFileError(f"{path}: missing columns {', '.join(sorted(missing))}")
        rows = {}
        for line, row in enumerate(reader, start=2):
            code = row["code"].strip()
            if len(code) != 6 or not code.isdigit() or code in rows:
                raise DivisionsFileError(f"{path}:{line}: bad or repeated code {code!r}")
            if row["level"] not in AreaLevel.values:
                raise DivisionsFileError(f"{path}:{line}: unknown level {row['level']!r}")
            rows[code] = {
                "name": row["name"].strip(),
                "full_name": row["full_name"].strip(),
                "level": row["level"],
                "parent_id": row["parent_code"].strip() or None,
                "city_id": row["city_code"].strip() or None,
                "province_id": row["province_code"].strip() or None,
                "acts_as_county": row["acts_as_county"].strip().lower() in ("1", "true", "yes"),
            }
    for code, values in rows.items():
        for key in ("parent_id", "city_id", "province_id"):
            if values[key] is not None and values[key] not in rows:
                raise DivisionsFileError(
                    f"{path}: {code} names {values[key]} as its {key[:-3]}, which is not in the file"
                )
    return rows


@transaction.atomic
def areas_load(*, path: str | Path | None = None) -> dict[str, int]:
    """Upsert the divisions of `path` (default: the shipped `data/divisions.csv`) by code.

    Set-based, so the ~3,200 rows load in well under a second: one read of the current rows, one
    bulk insert of new codes (provinces, then cities, then counties, so self references resolve
    in any backend) and one bulk update of rows whose name, level or links changed. Idempotent: a
    second run writes nothing. Codes no longer in the file are kept (stays and designations may
    point at them; `Area` is PROTECTed) and counted as `not_in_file`. Returns the file's counts
    per level and `total`, and `created`, `updated`, `unchanged`, `not_in_file`."""
    rows = _divisions_read(Path(path) if path is not None else DIVISIONS_CSV)
    attnames = [Area._meta.get_field(name).attname for name in UPDATE_FIELDS]

    existing = Area.objects.in_bulk()
    to_create, to_update = [], []
    for code, values in rows.items():
        area = existing.get(code)
        if area is None:
            to_create.append(Area(code=code, **values))
        elif any(getattr(area, attname) != values[attname] for attname in attnames):
            for attname in attnames:
                setattr(area, attname, values[attname])
            to_update.append(area)

    to_create.sort(key=lambda a: (LEVEL_ORDER[a.level], a.code))
    Area.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    if to_update:
        Area.objects.bulk_update(to_update, UPDATE_FIELDS, batch_size=BATCH_SIZE)

    counts = {level: sum(1 for v in rows.values() if v["level"] == level) for level in AreaLevel.values}
    return {
        **counts,
        "total": len(rows),
        "created": len(to_create),
        "updated": len(to_update),
        "unchanged": len(rows) - len(to_create) - len(to_update),
        "not_in_file": len(existing.keys() - rows.keys()),
    }
