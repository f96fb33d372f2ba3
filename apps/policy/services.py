"""The write path of the policy (SPEC §8, policy_admin): publishing risk designations,
border-port counties and policy versions. Each is a new row that supersedes (never an edit),
recorded with its ingestion and audit event, and recomputes the persons it may affect."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from apps.areas.models import Area
from apps.audit.choices import AuditKind
from apps.audit.services import audit_event_record
from apps.core import doors
from apps.core.clock import now

from .choices import RiskLevel
from .models import BorderPortCounty, PolicyVersion, RiskDesignation
from .selectors import POLICY_PARAMETERS, policy_at


def _county(code: str) -> Area:
    area = Area.objects.filter(code=code).first()
    if area is None:
        raise ValidationError({"area_code": [_("Unknown area code %(code)s.") % {"code": code}]})
    if not area.is_county_like:
        raise ValidationError({"area_code": [_("Designations and border ports are set on a county.")]})
    return area


def _ingestion(feed: str, actor, payload: dict):
    """The ingestion row a published designation or border port is provenanced by (the evidence
    app's model, reached through the foreign key: evidence sits above the policy)."""
    Ingestion = RiskDesignation._meta.get_field("ingestion").related_model
    return Ingestion.objects.create(
        feed=feed, received_at=now(), submitted_by=actor, payload=payload, record_count=1, accepted=1
    )


def _fanout(area: Area) -> None:
    doors.status_fanout_areas(county_codes=[area.code])


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
    audit_event_record(kind=AuditKind.DESIGNATION_PUBLISHED, actor=actor, reason=note, detail=payload)
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
    audit_event_record(kind=AuditKind.BORDER_PORT_PUBLISHED, actor=actor, detail=payload)
    _fanout(area)
    return port


@transaction.atomic
def policy_publish(*, actor, effective_from: dt.datetime, note: str = "", **parameters: int) -> PolicyVersion:
    """Publish a new version of the policy parameters from `effective_from` on. Parameters not
    given keep the values in force at that moment. Every stored status is due again by then."""
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
        kind=AuditKind.POLICY_PUBLISHED,
        actor=actor,
        reason=note,
        detail={"effective_from": effective_from.isoformat(), **values},
    )
    # Every status whose next change is later than the new version is due at it (one UPDATE in
    # apps.status, reached through its door: policy sits below the engine).
    doors.status_due_by(at=effective_from)
    return version
