"""The write path of the areas app: loading the national administrative divisions (SPEC §6), and
publishing designations, border-port counties and policy versions (SPEC §8, policy_admin)."""

import csv
import datetime as dt
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from apps.audit.services import audit_event_record
from apps.core.clock import now

from .choices import AreaLevel, RiskLevel
from .models import Area, BorderPortCounty, PolicyVersion, RiskDesignation
from .selectors import POLICY_PARAMETERS

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


def _county(code: str) -> Area:
    area = Area.objects.filter(code=code).first()
    if area is None:
        raise ValidationError({"area_code": [_("Unknown area code %(code)s.") % {"code": code}]})
    if not area.is_county_like:
        raise ValidationError({"area_code": [_("Designations and border ports are set on a county.")]})
    return area


def _ingestion(feed: str, actor, payload: dict):
    from apps.evidence.models import Ingestion

    return Ingestion.objects.create(
        feed=feed, received_at=now(), submitted_by=actor, payload=payload, record_count=1, accepted=1
    )


def _fanout(area: Area) -> None:
    from apps.status.services import status_fanout_areas

    status_fanout_areas(county_codes=[area.code])


@transaction.atomic
def risk_designation_publish(
    *, actor, area_code: str, level: str, effective_from: dt.datetime, note: str = ""
) -> RiskDesignation:
    """Publish a county's risk level from `effective_from` on, and recompute everyone who stayed
    there (or in its city at city precision) within the window — also retroactively."""
    if level not in RiskLevel.values:
        raise ValidationError({"level": [_("Unknown level %(l)s.") % {"l": level}]})
    area = _county(area_code)
    payload = {"area_code": area_code, "level": level, "effective_from": effective_from.isoformat(), "note": note}
    designation = RiskDesignation.objects.create(
        area=area,
        level=level,
        effective_from=effective_from,
        published_by=actor,
        note=note,
        ingestion=_ingestion("risk-designations", actor, payload),
    )
    audit_event_record(kind="designation.published", actor=actor, reason=note, detail=payload)
    _fanout(area)
    return designation


@transaction.atomic
def border_port_publish(
    *, actor, area_code: str, effective_from: dt.datetime, effective_to: dt.datetime | None = None
) -> BorderPortCounty:
    """Mark a county as a land-border-port county for a period (popup ⑤)."""
    area = _county(area_code)
    if effective_to is not None and effective_to <= effective_from:
        raise ValidationError({"effective_to": [_("The end must come after the start.")]})
    payload = {
        "area_code": area_code,
        "effective_from": effective_from.isoformat(),
        "effective_to": effective_to.isoformat() if effective_to else None,
    }
    port = BorderPortCounty.objects.create(
        area=area,
        effective_from=effective_from,
        effective_to=effective_to,
        published_by=actor,
        ingestion=_ingestion("border-port-counties", actor, payload),
    )
    audit_event_record(kind="border_port.published", actor=actor, detail=payload)
    _fanout(area)
    return port


@transaction.atomic
def policy_publish(*, actor, effective_from: dt.datetime, note: str = "", **parameters: int) -> PolicyVersion:
    """Publish a new version of the policy parameters from `effective_from` on. Parameters not
    given keep the values in force at that moment. Every stored status is due again by then."""
    from apps.status.models import PersonStatus

    from .selectors import policy_at

    unknown = set(parameters) - set(POLICY_PARAMETERS)
    if unknown:
        raise ValidationError({name: [_("Unknown parameter.")] for name in unknown})
    base = policy_at(effective_from)
    values = {name: parameters.get(name, getattr(base, name)) for name in POLICY_PARAMETERS}
    errors = {
        name: [_("Must be a whole number of at least 0.")]
        for name, v in values.items()
        if not isinstance(v, int) or v < 0
    }
    if errors:
        raise ValidationError(errors)
    version = PolicyVersion.objects.create(effective_from=effective_from, note=note, created_by=actor, **values)
    audit_event_record(
        kind="policy.published",
        actor=actor,
        reason=note,
        detail={"effective_from": effective_from.isoformat(), **values},
    )
    # One UPDATE: every status whose next change is later than the new version is due at it.
    PersonStatus.objects.filter(Q(next_change_at__isnull=True) | Q(next_change_at__gt=effective_from)).update(
        next_change_at=effective_from
    )
    return version
