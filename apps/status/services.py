"""The write path of the materialised status: recomputation of one person, marking persons whose
facts changed, and the fan-out of area-wide changes (SPEC §10).

Correctness never depends on a task having run: a row is recomputed on read when it is marked
dirty or past its `next_change_at`; the tasks only keep rows fresh ahead of reads.
"""

import datetime as dt
import functools
import json
import logging
from collections import defaultdict
from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import Q

from apps.areas.models import Area
from apps.core import doors
from apps.core.bulk import rows_insert
from apps.core.clock import now
from apps.evidence.models import Stay
from apps.people.models import Person, Phone
from apps.policy.selectors import policy_at

from .choices import PopupEnd
from .engine import StatusResult, evaluate
from .models import PersonStatus, Popup, Release, StatusTransition
from .selectors import in_array, persons_facts

logger = logging.getLogger(__name__)
CHUNK = 500


def status_refresh(*, person_id: int) -> PersonStatus:
    """Recompute one person's status now; see `status_refresh_many`."""
    return status_refresh_many(person_ids=[person_id])[person_id]


@transaction.atomic
def status_refresh_many(*, person_ids: Iterable[int]) -> dict[int, PersonStatus]:
    """Recompute the statuses of a chunk of persons now and store them, their popup episodes and
    their state transitions, with a fixed number of queries for the whole chunk.

    The rows are locked (in id order, so two chunks never deadlock) before the facts are read, so
    two recomputations of one person never interleave and the later one always sees at least the
    facts the earlier one saw; a row already computed at a later moment is left alone (a late task
    never overwrites a newer result)."""
    ids = sorted(set(person_ids))
    t0 = now()
    existing = set(
        PersonStatus.objects.filter(in_array(PersonStatus, "person", ids)).values_list("person_id", flat=True)
    )
    missing = [pid for pid in ids if pid not in existing]
    if missing:  # first computation: a row to lock (another chunk may be inserting it too)
        PersonStatus.objects.bulk_create(
            [
                PersonStatus(person_id=pid, computed_at=t0, valid_until=t0, state_since=t0, dirty_since=t0)
                for pid in missing
            ],
            ignore_conflicts=True,
        )
    rows = {
        r.person_id: r
        for r in PersonStatus.objects.select_for_update()
        .filter(in_array(PersonStatus, "person", ids))
        .defer("popups", "reasons")  # rewritten below; loading them parsed kilobytes of JSON a row
        .order_by("person_id")
    }
    t = now()
    todo = [pid for pid in ids if rows[pid].version == 0 or rows[pid].computed_at <= t]
    if not todo:
        return rows
    facts = persons_facts(todo, t)
    results = {pid: evaluate(facts[pid], t) for pid in todo}
    open_episodes = defaultdict(dict)
    for episode in Popup.objects.filter(in_array(Popup, "person", todo), ended_at__isnull=True):
        open_episodes[episode.person_id][episode.number] = episode
    released_for = [pid for pid in todo if results[pid].released]
    latest_release = {}
    for release in Release.objects.filter(person_id__in=released_for).order_by("evidence_watermark", "id"):
        latest_release[(release.person_id, release.popup_number)] = release

    transitions, new_episodes, ended_episodes, reraised = [], [], [], set()
    for pid in todo:
        row, result = rows[pid], results[pid]
        _apply(row, result, t, transitions)
        active = {p.number: p for p in result.popups}
        for number, popup in active.items():
            if number not in open_episodes[pid]:
                new_episodes.append(Popup(person_id=pid, number=number, since=popup.since))
                reraised.update(f.after_release for f in result.reasons if f.popup == number and f.after_release)
        for number, episode in open_episodes[pid].items():
            if number in active:
                continue
            episode.ended_at = t
            if number in result.released:
                episode.ended_by = PopupEnd.RELEASE
                episode.release = latest_release.get((pid, number))
            else:
                episode.ended_by = PopupEnd.AUTO
            ended_episodes.append(episode)
    rows_update(PersonStatus, [rows[pid] for pid in todo], STORED_FIELDS)
    rows_insert(StatusTransition, [_fields_of(StatusTransition, x) for x in transitions])  # COPY on PostgreSQL
    rows_insert(Popup, [_fields_of(Popup, p) for p in new_episodes])
    if reraised:  # released popups came back: their releases' reviews are checked again (SPEC §5)
        doors.release_reraised(release_ids=sorted(reraised), at=t)
    rows_update(Popup, ended_episodes, ["ended_at", "ended_by", "release"])
    return rows


def _fields_of(model, obj) -> dict:
    """A new instance's column values, for `rows_insert` (its id is left to the database)."""
    return {f.attname: getattr(obj, f.attname) for f in model._meta.concrete_fields if not f.primary_key}


def rows_update(model, objs: list, field_names: list[str]) -> None:
    """Write `field_names` of many rows in one statement. On PostgreSQL an `UPDATE … FROM
    jsonb_to_recordset(%s)` joined on the primary key, the whole batch one JSON parameter:
    Django's `bulk_update` builds a `CASE WHEN` per field and row, whose construction alone took
    most of a recomputation (about 6 ms a person), and array parameters are escaped element by
    element in Python (slow for the JSON of reasons). Elsewhere (SQLite) `bulk_update`."""
    if not objs:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_update(objs, field_names)
        return
    meta = model._meta
    qn = connection.ops.quote_name
    pk = meta.pk
    fields = [meta.get_field(name) for name in field_names]
    records = []
    for obj in objs:
        record = {"pk": obj.pk}
        for i, f in enumerate(fields):
            value = getattr(obj, f.attname)
            record[f"c{i}"] = value.isoformat() if isinstance(value, dt.datetime) else value
        records.append(record)
    columns = ", ".join(
        ["pk " + pk.rel_db_type(connection), *(f"c{i} {f.db_type(connection)}" for i, f in enumerate(fields))]
    )
    assignments = ", ".join(f"{qn(f.column)} = v.c{i}" for i, f in enumerate(fields))
    table = qn(meta.db_table)
    sql = (
        f"UPDATE {table} SET {assignments} FROM jsonb_to_recordset(%s::jsonb) AS v({columns}) "
        f"WHERE {table}.{qn(pk.column)} = v.pk"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [json.dumps(records, ensure_ascii=False)])


STORED_FIELDS = [
    "state",
    "popups",
    "reasons",
    "computed_at",
    "next_change_at",
    "valid_until",
    "state_since",
    "dirty_since",
    "version",
]


def _apply(row: PersonStatus, result: StatusResult, t: dt.datetime, transitions: list) -> None:
    previous_state = row.state
    if row.version == 0:
        # A first computation dates the state from now, when the portal learnt it: partners
        # polling the restrictions feed with `changed_since` must see a new restriction, and the
        # popups themselves keep their own `since`. A first state other than green is recorded as
        # a transition from green (everyone is green until evidence says otherwise).
        row.state_since = t
        if result.state != "green":
            transitions.append(
                StatusTransition(person_id=row.person_id, from_state="green", to_state=result.state, at=t)
            )
    elif result.state != previous_state:
        # Date the change when it was due (a clock-driven change found by a later sweep or read).
        due = row.next_change_at
        at = due if (due is not None and due <= t and row.dirty_since is None) else t
        transitions.append(
            StatusTransition(person_id=row.person_id, from_state=previous_state, to_state=result.state, at=at)
        )
        row.state_since = at
    row.state = result.state
    row.popups = [p.as_json() for p in result.popups]
    row.reasons = [r.as_json() for r in result.reasons]
    row.computed_at = t
    row.next_change_at = result.next_change_at
    row.valid_until = result.valid_until
    row.dirty_since = None
    row.version += 1


def status_current(*, person_id: int) -> PersonStatus:
    """The person's status as of now: the stored row when it is still valid, else recomputed
    before answering (never served stale)."""
    row = status_row(person_id=person_id)
    t = now()
    if row is None or row.dirty_since is not None or (row.next_change_at is not None and row.next_change_at <= t):
        row = status_refresh(person_id=person_id)
    return row


def status_row(*, person_id: int) -> PersonStatus | None:
    """The stored row, read by primary key with one prepared statement text and the fields'
    own converters: the read path of every look-up (millions a day), where building the query
    through the ORM cost more than running it."""
    fields, sql, converters = _status_row_reader(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, [person_id])
        values = cursor.fetchone()
    if values is None:
        return None
    values = list(values)
    for i, column, functions in converters:
        for convert in functions:
            values[i] = convert(values[i], column, connection)
    return PersonStatus.from_db(connection.alias, [f.attname for f in fields], values)


@functools.cache
def _status_row_reader(vendor: str):
    meta = PersonStatus._meta
    qn = connection.ops.quote_name
    fields = list(meta.concrete_fields)
    table = qn(meta.db_table)
    sql = f"SELECT {', '.join(f'{table}.{qn(f.column)}' for f in fields)} FROM {table} WHERE {qn(meta.pk.column)} = %s"
    converters = []
    for i, f in enumerate(fields):
        column = f.get_col(meta.db_table)
        functions = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if functions:
            converters.append((i, column, functions))
    return fields, sql, converters


def status_mark_dirty(*, person_ids: Iterable[int]) -> list[int]:
    """Mark persons whose facts changed (set-based) and schedule their recomputation after commit.
    Returns the ids marked."""
    ids = sorted(set(person_ids))
    if not ids:
        return ids
    t = now()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        # A person never computed gets a row marked dirty too, so the sweep (and the restrictions
        # feed's catch-up) finds them even if the scheduled task is lost with the broker.
        PersonStatus.objects.bulk_create(
            [PersonStatus(person_id=pid, computed_at=t, valid_until=t, state_since=t, dirty_since=t) for pid in chunk],
            ignore_conflicts=True,
        )
        PersonStatus.objects.filter(person_id__in=chunk).update(dirty_since=t)
    _schedule(ids)
    return ids


def _schedule(ids: list[int]) -> None:
    """Enqueue recomputation in chunks once the marking transaction has committed."""
    if ids:
        chunks = [ids[start : start + CHUNK] for start in range(0, len(ids), CHUNK)]
        transaction.on_commit(functools.partial(_enqueue, chunks))


def _enqueue(chunks: list[list[int]]) -> None:
    """Send the recomputation tasks of a committed change. The change is kept and its persons are
    marked dirty whatever happens here, so a broker that cannot take the tasks must not fail the
    request that made it (an accepted feed batch answering 500 after its commit): the loss is
    logged, read-repair serves those persons right meanwhile, and the periodic sweep recomputes
    them. The remaining chunks are not tried: each attempt waits for the broker to refuse."""
    from kombu.exceptions import KombuError

    from .tasks import recompute_persons

    for i, chunk in enumerate(chunks):
        try:
            recompute_persons.delay(chunk)
        except (KombuError, OSError):
            left = sum(len(c) for c in chunks[i:])
            logger.warning("Broker unavailable: %d persons left marked dirty for the sweep", left, exc_info=True)
            return


def persons_with_stays_in(*, county_codes: Iterable[str], since: dt.datetime):
    """Ids of persons with a stay in any of these counties, or a city-precision stay in a city
    containing one of them, departed at or after `since` (or still there) — directly or through a
    phone number. Set-based over the indexed stays; never a loop over persons."""
    codes = list(county_codes)
    city_codes = Area.objects.filter(code__in=codes).values("city_id")
    in_area = Q(area_id__in=codes, precision="county") | Q(area_id__in=city_codes, precision="city")
    recent = Q(departed_at__isnull=True) | Q(departed_at__gte=since)
    stays = Stay.objects.filter(in_area & recent)
    direct = stays.filter(person_id__isnull=False).values("person_id")
    via_phone = Phone.objects.filter(number_hash__in=stays.exclude(phone_hash="").values("phone_hash")).values(
        "person_id"
    )
    return Person.objects.filter(Q(pk__in=direct) | Q(pk__in=via_phone)).values_list("pk", flat=True)


def status_fanout_areas(*, county_codes: list[str]) -> int:
    """A designation, local-case report or border-port change: mark every person who may be
    affected and schedule their recomputation in chunks. Returns how many were marked."""
    t = now()
    since = t - policy_at(t).lookback
    affected = persons_with_stays_in(county_codes=county_codes, since=since)
    # One set-based UPDATE marks them all inside the caller's transaction, so no read can be
    # served the old status even before the recomputation tasks have run.
    PersonStatus.objects.filter(person_id__in=affected).update(dirty_since=t)
    ids = list(affected)
    _schedule(ids)
    return len(ids)


def status_due_by(*, at) -> int:
    """New policy parameters in force from `at` (a published version): every stored status whose
    next change is later than `at` is due at it, in one UPDATE. Returns how many."""
    return PersonStatus.objects.filter(Q(next_change_at__isnull=True) | Q(next_change_at__gt=at)).update(
        next_change_at=at
    )


def status_sweep(*, limit: int = 100_000) -> int:
    """Recompute persons whose status is due (past `next_change_at`) or marked dirty. Returns how
    many were scheduled."""
    t = now()
    ids = list(
        PersonStatus.objects.filter(Q(next_change_at__lte=t) | Q(dirty_since__isnull=False))
        .order_by("next_change_at")
        .values_list("person_id", flat=True)[:limit]
    )
    from .tasks import recompute_persons

    for start in range(0, len(ids), CHUNK):
        recompute_persons.delay(ids[start : start + CHUNK])
    return len(ids)


def status_recompute_all(*, batch: int = CHUNK) -> int:
    """Compute every person's status (after a bulk load such as the demo). Chunked by id."""
    count = 0
    last = 0
    while True:
        ids = list(Person.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch])
        if not ids:
            return count
        status_refresh_many(person_ids=ids)
        count += len(ids)
        last = ids[-1]
