"""Retention purges (信息最小化): personal data the service no longer needs is removed on a schedule
(celery beat, daily: `apps.retention.tasks.purge_expired`; by hand: `manage.py purge_expired`).

What is purged, and when (`t` is the time of the run; the settings are in `config/settings/base.py`):

- **Telecom stays** (`source = telecom`) that departed more than `lookback_days` +
  `RETENTION_TELECOM_MARGIN_DAYS` before `t` (14 + 7 days). `lookback_days` is the largest of the
  policy in force at `t` and any policy version already scheduled after it, so a stay is never
  purged while the engine could still count it. A stay without a departure is kept. The stay and
  its row history are deleted, and the raw batches that brought it (`Ingestion.payload`, which
  holds the clear phone number) are erased. A stay an audit event or a release cites as evidence
  is not deleted: its phone link (`phone_hash`, `person`) is erased in the row and its history,
  and the anonymous stay (a city and two times) is kept so the cited evidence still resolves.
- **Phone bindings** unbound more than `RETENTION_PHONE_UNBOUND_DAYS` before `t`, never fewer
  days than the policy's `phone_unbind_days` (in force at `t` or scheduled later): the status
  engine counts a number's stays only until `unbound_at + phone_unbind_days`, so by then the
  binding can no longer change any status. The binding is deleted; one an audit event cites (a
  correction by hand) is kept with its number erased (`number_encrypted` emptied, `number_hash`
  replaced by a marker that matches no stay). The number is erased from the row history either way.
- **Access log** (staff look-ups of one person's record, `AccessLog`) older than
  `RETENTION_ACCESS_LOG_DAYS` (180): deleted. Their leaves in the sealed audit stay, marked purged
  (apps.audit.chain), so the audit still verifies.
- **Raw ingestion payloads** received more than `RETENTION_PERSONAL_DATA_DAYS` (365) before `t`:
  the encrypted copy of each batch as received (clear ID and phone numbers) is erased. The
  `Ingestion` row stays: it is the order of knowledge releases refer to, and the facts it
  brought are kept.
- **Callers' phone numbers of closed appeals** (resolved or rejected more than
  `RETENTION_PERSONAL_DATA_DAYS` before `t`): erased from the appeal and its row history. The
  appeal itself is part of the audited casework and stays.

What is never purged, and why:

- `AuditEvent` (the audit of manual changes), `Release` and `ReleaseAttachment` (their files
  included): SPEC §5, they can never be edited or deleted; the database refuses it too.
- Anything an audit event or a release cites: it is kept, with its personal link erased where
  the purge above says so, so the audit of manual changes stays readable.
- Persons, observation orders, lab results, health events, inbound arrivals, associations,
  declarations, other stays (tickets, hotels, checkpoints), hotel stays and community
  registrations: the status engine reads them without a time limit (a popup ④ trigger waits for
  a negative test "however long that takes"), or audit events and releases cite them.
- Status rows, popup episodes and state transitions: they are the current status and the
  restrictions feed partners read from any cursor.

The access log and the row history are append-only: on PostgreSQL the purges delete or blank
their rows only through the purge functions of `apps.retention.db`, which run as the migration
owner and themselves refuse rows younger than the retention periods (the application's database
role cannot change those rows any other way). The functions judge by the live rows, so each batch
calls them before it deletes or anonymises its live rows. On SQLite (development) the ORM does it.

Every purge walks its candidates in primary-key batches of `BATCH_SIZE` (never the whole
population in Python, never a query per row), each batch in its own short transaction, so a run
that stops half-way keeps what it did and the next run carries on: the purges are idempotent.
Each purge that removed something appends one `retention.purged` audit event with the counts
only (never personal data). A dry run counts what would go and changes nothing.
"""

import datetime as dt
import logging
from collections.abc import Callable, Iterator

from django.conf import settings
from django.db import connection, transaction
from django.db.models import CharField, Max, Min, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils.translation import gettext as _

from apps.appeals.choices import AppealStatus
from apps.appeals.models import Appeal
from apps.audit.chain import purged_leaves_mark
from apps.audit.choices import AuditKind, Origin
from apps.audit.models import AccessLog, AuditEvent
from apps.audit.services import audit_event_record
from apps.core import clock
from apps.core.db import RETENTION_LOCK, advisory_try_lock
from apps.core.origin import current_origin
from apps.evidence.choices import StaySource
from apps.evidence.models import Ingestion, Stay
from apps.people.models import Phone
from apps.policy.models import PolicyVersion
from apps.policy.selectors import policy_at
from apps.status.models import Release

from .db import purge_call

logger = logging.getLogger(__name__)

BATCH_SIZE = 10_000
AUDIT_KIND = AuditKind.RETENTION_PURGED
# A phone kept for the audit gets this prefix and its id as `number_hash`: unique per row (the
# person/number/channel constraint holds) and never equal to a stay's phone hash.
ERASED_NUMBER_PREFIX = "erased:"
CLOSED_APPEAL_STATES = (AppealStatus.RESOLVED, AppealStatus.REJECTED)


# --- shared machinery -----------------------------------------------------------------------------


def _batches(queryset: QuerySet, batch_size: int = BATCH_SIZE) -> Iterator[list[int]]:
    """The primary keys of `queryset` in ascending batches, each read from the last key seen on
    (a keyset walk of the primary-key index: rows a batch keeps are not read again)."""
    last = None
    while True:
        page = queryset.order_by("pk")
        if last is not None:
            page = page.filter(pk__gt=last)
        ids = list(page.values_list("pk", flat=True)[:batch_size])
        if not ids:
            return
        yield ids
        last = ids[-1]


def _on_postgresql() -> bool:
    """Whether the append-only rows go through the purge functions (else through the ORM)."""
    return connection.vendor == "postgresql"


def _run(queryset: QuerySet, apply: Callable[[list[int]], int], *, dry_run: bool) -> int:
    """Apply `apply` to the keys of `queryset`, batch by batch; or only count them (dry run)."""
    total = 0
    for ids in _batches(queryset):
        if dry_run:
            total += len(ids)
            continue
        with transaction.atomic():  # one batch: a short transaction of its own
            total += apply(ids)
    return total


def _report(purge: str, count: int, *, cutoff: dt.datetime, dry_run: bool, **detail) -> int:
    """Log the outcome and, when rows went, append one audit event with the counts only."""
    logger.info("retention %s: %d %s (cutoff %s)", purge, count, "to purge" if dry_run else "purged", cutoff)
    if count and not dry_run:
        audit_event_record(
            kind=AUDIT_KIND,
            actor=None,
            reason=_("Retention purge: %(purge)s") % {"purge": purge},
            detail={"purge": purge, "count": count, "cutoff": cutoff.isoformat(), **detail},
            # The beat task, or the purge_expired command; a direct call is a background job too.
            origin=current_origin(default=Origin.TASK),
        )
    return count


def _raw_delete(queryset: QuerySet) -> int:
    """DELETE the rows of `queryset` in one statement: no per-row signals, and so no history row
    written for each deleted row (which would copy the personal data being purged)."""
    return queryset._raw_delete(queryset.db) or 0  # None when the filter can match nothing


def _policy_max(t: dt.datetime, parameter: str) -> int:
    """The largest value of a policy parameter in force at `t` or scheduled after it."""
    current = getattr(policy_at(t), parameter)
    scheduled = PolicyVersion.objects.filter(effective_from__gt=t).aggregate(m=Max(parameter))["m"]
    return max(current, scheduled or 0)


def _cited_ids(*, since: dt.datetime | None, model: str, evidence_kind: str = "", kinds=None) -> set[int]:
    """The ids of `model` rows (`app_label.model_name`) that audit events (and, for evidence,
    releases) written at or after `since` cite: as evidence of a status (`{"kind": "stay",
    "id": …}` in a status before or after) or as the record a correction names (`{"model":
    "evidence.stay", "id": …}`). Only events from `since` on are read: nothing older can cite the
    candidates of a purge (a status cites a stay only while it is in the window, a correction
    comes after the row was created)."""
    if since is None:
        return set()
    found: set[int] = set()

    def walk(node) -> None:
        if isinstance(node, dict):
            if (evidence_kind and node.get("kind") == evidence_kind) or node.get("model") == model:
                try:
                    found.add(int(node.get("id")))
                except (TypeError, ValueError):
                    pass
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    events = AuditEvent.objects.filter(at__gte=since)
    if kinds is not None:
        events = events.filter(kind__in=kinds)
    for detail in events.values_list("detail", flat=True).iterator(chunk_size=2000):
        walk(detail)
    if evidence_kind:
        releases = Release.objects.filter(created_at__gte=since).values_list("status_before", "status_after")
        for before, after in releases.iterator(chunk_size=2000):
            walk(before)
            walk(after)
    return found


# --- the purges -----------------------------------------------------------------------------------


def telecom_stay_cutoff(t: dt.datetime) -> dt.datetime:
    """Telecom stays that departed before this moment are purged at `t`."""
    days = _policy_max(t, "lookback_days") + settings.RETENTION_TELECOM_MARGIN_DAYS
    return t - dt.timedelta(days=days)


def purge_telecom_stays(*, now: dt.datetime | None = None, dry_run: bool = False) -> int:
    """Delete telecom stays past the look-back window plus the margin (anonymise those the audit
    cites), with their row history and the raw batches that brought them."""
    t = now or clock.now()
    cutoff = telecom_stay_cutoff(t)
    HistoricalStay = Stay.history.model
    candidates = (
        Stay.objects.filter(source=StaySource.TELECOM, departed_at__lt=cutoff, hotel_stay__isnull=True)
        .filter(~Q(phone_hash="") | Q(person__isnull=False))
        .order_by()
    )
    bounds = candidates.aggregate(arrived=Min("arrived_at"), ingested=Min("ingested_at"))
    since = min((m for m in bounds.values() if m is not None), default=None)
    cited = set() if dry_run else _cited_ids(since=since, model="evidence.stay", evidence_kind="stay")
    erased_batches = 0

    def apply(ids: list[int]) -> int:
        nonlocal erased_batches
        # Re-check the condition, locking the rows: a feed may have changed a stay meanwhile.
        ids = list(
            Stay.objects.select_for_update()
            .filter(pk__in=ids, source=StaySource.TELECOM, departed_at__lt=cutoff)
            .values_list("pk", flat=True)
        )
        kept = [pk for pk in ids if pk in cited]
        gone = [pk for pk in ids if pk not in cited]
        # The raw batches that brought these stays (every version) hold the clear phone number.
        ingestion_ids = HistoricalStay.objects.filter(id__in=ids, ingestion__isnull=False).values("ingestion_id")
        erased_batches += (
            Ingestion.objects.filter(pk__in=ingestion_ids).exclude(payload_encrypted="").update(payload_encrypted="")
        )
        # The history first: the function judges by the live rows.
        if _on_postgresql():
            purge_call(connection, "healthkit_purge_stay_history(%s::bigint[], %s::bigint[], %s)", kept, gone, cutoff)
        else:
            HistoricalStay.objects.filter(id__in=kept).update(phone_hash="", person=None)
            _raw_delete(HistoricalStay.objects.filter(id__in=gone))
        anonymised = Stay.objects.filter(pk__in=kept).update(phone_hash="", person=None)
        deleted = _raw_delete(Stay.objects.filter(pk__in=gone))
        return anonymised + deleted

    count = _run(candidates, apply, dry_run=dry_run)
    return _report("telecom_stays", count, cutoff=cutoff, dry_run=dry_run, batches_erased=erased_batches)


def phone_unbound_cutoff(t: dt.datetime) -> dt.datetime:
    """Phone bindings unbound before this moment are purged at `t`: never sooner than the status
    engine stops counting the number for the person (`phone_unbind_days` after unbinding)."""
    days = max(settings.RETENTION_PHONE_UNBOUND_DAYS, _policy_max(t, "phone_unbind_days"))
    return t - dt.timedelta(days=days)


def purge_unbound_phones(*, now: dt.datetime | None = None, dry_run: bool = False) -> int:
    """Delete phone bindings unbound past the retention period (erase the number of those the
    audit cites), and erase the number from their row history."""
    t = now or clock.now()
    cutoff = phone_unbound_cutoff(t)
    HistoricalPhone = Phone.history.model
    candidates = Phone.objects.filter(unbound_at__lt=cutoff).exclude(number_encrypted="").order_by()
    since = candidates.aggregate(m=Min("created_at"))["m"]
    cited = set()
    if not dry_run:
        cited = _cited_ids(
            since=since, model="people.phone", kinds=(AuditKind.RECORD_CORRECTED, AuditKind.RECORD_ADDED)
        )

    def apply(ids: list[int]) -> int:
        # Re-check the condition, locking the rows: the number may have been bound again meanwhile.
        ids = list(
            Phone.objects.select_for_update().filter(pk__in=ids, unbound_at__lt=cutoff).values_list("pk", flat=True)
        )
        kept = [pk for pk in ids if pk in cited]
        # The history first: the function judges by the live rows.
        if _on_postgresql():
            purge_call(connection, "healthkit_erase_phone_history(%s::bigint[], %s)", ids, cutoff)
        else:
            HistoricalPhone.objects.filter(id__in=ids).exclude(number_encrypted="", number_hash="").update(
                number_encrypted="", number_hash=""
            )
        anonymised = Phone.objects.filter(pk__in=kept).update(
            number_encrypted="",
            number_hash=Concat(Value(ERASED_NUMBER_PREFIX), Cast("pk", CharField())),
            updated_at=t,
        )
        deleted = _raw_delete(Phone.objects.filter(pk__in=ids).exclude(pk__in=kept))
        return anonymised + deleted

    count = _run(candidates, apply, dry_run=dry_run)
    return _report("unbound_phones", count, cutoff=cutoff, dry_run=dry_run)


def access_log_cutoff(t: dt.datetime) -> dt.datetime:
    return t - dt.timedelta(days=settings.RETENTION_ACCESS_LOG_DAYS)


def purge_access_log(*, now: dt.datetime | None = None, dry_run: bool = False) -> int:
    """Delete look-ups of personal records older than the access-log retention period."""
    t = now or clock.now()
    cutoff = access_log_cutoff(t)
    candidates = AccessLog.objects.filter(at__lt=cutoff).order_by()

    def apply(ids: list[int]) -> int:
        if _on_postgresql():  # the function also marks their sealed leaves purged
            return purge_call(connection, "healthkit_purge_access_log(%s::bigint[], %s)", ids, cutoff)
        gone = AccessLog.objects.filter(pk__in=ids, at__lt=cutoff)
        purged_leaves_mark(source="access", row_ids=list(gone.values_list("pk", flat=True)), at=t)
        return _raw_delete(gone)

    count = _run(candidates, apply, dry_run=dry_run)
    return _report("access_log", count, cutoff=cutoff, dry_run=dry_run)


def personal_data_cutoff(t: dt.datetime) -> dt.datetime:
    return t - dt.timedelta(days=settings.RETENTION_PERSONAL_DATA_DAYS)


def purge_ingestion_payloads(*, now: dt.datetime | None = None, dry_run: bool = False) -> int:
    """Erase the raw copy of batches received before the personal-data retention period."""
    t = now or clock.now()
    cutoff = personal_data_cutoff(t)
    candidates = Ingestion.objects.filter(received_at__lt=cutoff).exclude(payload_encrypted="").order_by()

    def apply(ids: list[int]) -> int:
        return (
            Ingestion.objects.filter(pk__in=ids, received_at__lt=cutoff)
            .exclude(payload_encrypted="")
            .update(payload_encrypted="")
        )

    count = _run(candidates, apply, dry_run=dry_run)
    return _report("ingestion_payloads", count, cutoff=cutoff, dry_run=dry_run)


def purge_appeal_contacts(*, now: dt.datetime | None = None, dry_run: bool = False) -> int:
    """Erase the caller's phone number of appeals closed before the personal-data retention
    period: it served to call the caller back while the appeal was open."""
    t = now or clock.now()
    cutoff = personal_data_cutoff(t)
    HistoricalAppeal = Appeal.history.model
    closed = Q(status__in=CLOSED_APPEAL_STATES, resolved_at__lt=cutoff)
    with_phone = ~Q(caller_phone_encrypted="") | ~Q(caller_phone_display="")
    candidates = Appeal.objects.filter(closed).filter(with_phone).order_by()

    def apply(ids: list[int]) -> int:
        erased = (
            Appeal.objects.filter(closed, pk__in=ids)
            .filter(with_phone)
            .update(caller_phone_encrypted="", caller_phone_display="", updated_at=t)
        )
        if _on_postgresql():
            purge_call(connection, "healthkit_erase_appeal_history(%s::bigint[], %s)", ids, cutoff)
        else:
            HistoricalAppeal.objects.filter(id__in=ids).filter(with_phone).update(
                caller_phone_encrypted="", caller_phone_display=""
            )
        return erased

    count = _run(candidates, apply, dry_run=dry_run)
    return _report("appeal_contacts", count, cutoff=cutoff, dry_run=dry_run)


PURGES: dict[str, Callable[..., int]] = {
    "telecom_stays": purge_telecom_stays,
    "unbound_phones": purge_unbound_phones,
    "access_log": purge_access_log,
    "ingestion_payloads": purge_ingestion_payloads,
    "appeal_contacts": purge_appeal_contacts,
}


def purge_expired(*, now: dt.datetime | None = None, dry_run: bool = False) -> dict[str, int]:
    """Run every purge at the same `now`; the count of each (what would go, for a dry run)."""
    t = now or clock.now()
    return {name: purge(now=t, dry_run=dry_run) for name, purge in PURGES.items()}


def purge_lock():
    """A context yielding True when this process may purge: two runs (beat and a hand-started
    command, or a retried task) never overlap."""
    return advisory_try_lock(RETENTION_LOCK)
