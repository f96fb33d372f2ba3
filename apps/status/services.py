"""The write path of the materialised status: recomputation of one person, marking persons whose
facts changed, and the fan-out of area-wide changes (SPEC §10).

Correctness never depends on a task having run: a row is recomputed on read when it is marked
dirty or past its `next_change_at`; the tasks only keep rows fresh ahead of reads.
"""

import datetime as dt
import functools
import json
import logging
from collections import defaultdict, namedtuple
from collections.abc import Iterable

from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connection, connections, transaction
from django.db.models import Q

from apps.areas.models import Area
from apps.core import doors, replicas
from apps.core.bulk import rows_insert
from apps.core.clock import now
from apps.core.db import row_reader
from apps.evidence.models import Stay
from apps.people.models import Person, Phone
from apps.policy.selectors import policy_at

from . import metrics as status_metrics
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
    never overwrites a newer result). The lock is `FOR NO KEY UPDATE`: it excludes another
    recomputation of the row just the same, but not the `KEY SHARE` lock of a row inserted meanwhile
    that references it, and no key column is ever changed here.

    A row whose answer is unchanged and that was not marked dirty is not written at all (see
    `_changed_condition`): its `computed_at` and `version` stay those of the last write, the
    moment and count of the answers actually stored, so a reader comparing versions (a credential)
    sees a change only when there was one, and the table gets no dead row for nothing.

    The rows are read, compared and written as plain values (no model instance per row: building
    them cost more than the lock); instances are made only for the answer."""
    ids = sorted(set(person_ids))
    if not ids:
        return {}
    locked = _rows_lock(ids)
    missing = [pid for pid in ids if pid not in locked]
    if missing:  # first computation: a row to lock (another chunk may be inserting it too)
        t0 = now()
        PersonStatus.objects.bulk_create(
            [
                PersonStatus(person_id=pid, computed_at=t0, valid_until=t0, state_since=t0, dirty_since=t0)
                for pid in missing
            ],
            ignore_conflicts=True,
        )
        locked.update(_rows_lock(missing))
    t = now()
    todo = [pid for pid in ids if locked[pid].version == 0 or locked[pid].computed_at <= t]
    if not todo:
        return _instances(ids, {})
    facts = persons_facts(todo, t)
    results = {pid: evaluate(facts[pid], t) for pid in todo}
    open_episodes: dict[int, dict[int, int]] = defaultdict(dict)
    for episode_id, pid, number in Popup.objects.filter(
        in_array(Popup, "person", todo), ended_at__isnull=True
    ).values_list("pk", "person_id", "number"):
        open_episodes[pid][number] = episode_id
    released_for = [pid for pid in todo if results[pid].released]
    latest_release = {}
    if released_for:
        for pid, number, release_id in (
            Release.objects.filter(person_id__in=released_for)
            .order_by("evidence_watermark", "id")
            .values_list("person_id", "popup_number", "pk")
        ):
            latest_release[(pid, number)] = release_id

    status_metrics.fresh_observe([locked[pid].dirty_since for pid in todo], t)  # feed-to-fresh (/metrics)
    stored, transitions, new_episodes, ended_episodes, reraised = {}, [], [], [], set()
    for pid in todo:
        result = results[pid]
        stored[pid] = _apply(locked[pid], result, t, transitions)
        active = {p.number: p for p in result.popups}
        for number, popup in active.items():
            if number not in open_episodes[pid]:
                new_episodes.append(
                    {"person_id": pid, "number": number, "since": popup.since, "ended_at": None, "release_id": None}
                )
                reraised.update(f.after_release for f in result.reasons if f.popup == number and f.after_release)
        for number, episode_id in open_episodes[pid].items():
            if number in active:
                continue
            if number in result.released:
                ended_episodes.append((episode_id, t, PopupEnd.RELEASE, latest_release.get((pid, number))))
            else:
                ended_episodes.append((episode_id, t, PopupEnd.AUTO, None))
    written = _rows_store(stored, locked)
    rows_insert(StatusTransition, transitions)  # COPY on PostgreSQL
    rows_insert(Popup, new_episodes)
    if reraised:  # released popups came back: their releases' reviews are checked again (SPEC §5)
        doors.release_reraised(release_ids=sorted(reraised), at=t)
    _episodes_end(ended_episodes)
    return _instances(ids, {pid: values for pid, values in stored.items() if pid in written}, locked)


# What a recomputation reads of a stored row before deciding (never its JSON: parsing kilobytes
# of reasons a row cost more than the rest of the lock).
LOCKED_FIELDS = (
    "person_id",
    "state",
    "computed_at",
    "valid_until",
    "next_change_at",
    "state_since",
    "evidence_watermark",
    "version",
    "dirty_since",
)
Locked = namedtuple("Locked", LOCKED_FIELDS)


def _rows_lock(ids: list[int]) -> dict[int, Locked]:
    rows = (
        PersonStatus.objects.select_for_update(no_key=True)
        .filter(in_array(PersonStatus, "person", ids))
        .order_by("person_id")
        .values_list(*LOCKED_FIELDS)
    )
    return {row[0]: Locked(*row) for row in rows}


# The columns a recomputation writes, in the order of `_apply`'s record.
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
# A row is written when any of these differ from the new answer (or it is dirty or never computed).
ANSWER_FIELDS = ("state", "popups", "reasons", "next_change_at", "valid_until", "state_since")


def _apply(row: Locked, result: StatusResult, t: dt.datetime, transitions: list) -> dict:
    """The values to store for one person (`STORED_FIELDS`), and its transition if any."""
    previous_state = row.state
    state_since = row.state_since
    if row.version == 0:
        # A first computation dates the state from now, when the portal learnt it: partners
        # polling the restrictions feed with `changed_since` must see a new restriction, and the
        # popups themselves keep their own `since`. A first state other than green is recorded as
        # a transition from green (everyone is green until evidence says otherwise).
        state_since = t
        if result.state != "green":
            transitions.append({"person_id": row.person_id, "from_state": "green", "to_state": result.state, "at": t})
    elif result.state != previous_state:
        # Date the change when it was due (a clock-driven change found by a later sweep or read).
        due = row.next_change_at
        at = due if (due is not None and due <= t and row.dirty_since is None) else t
        transitions.append(
            {"person_id": row.person_id, "from_state": previous_state, "to_state": result.state, "at": at}
        )
        state_since = at
    return {
        "state": result.state,
        "popups": [p.as_json() for p in result.popups],
        "reasons": [r.as_json() for r in result.reasons],
        "computed_at": t,
        "next_change_at": result.next_change_at,
        "valid_until": result.valid_until,
        "state_since": state_since,
        "dirty_since": None,
        "version": row.version + 1,
    }


def _rows_store(stored: dict[int, dict], locked: dict[int, Locked]) -> set[int]:
    """Write the recomputed rows that changed; returns their ids.

    On PostgreSQL one `UPDATE … FROM jsonb_to_recordset(%s)` (see `rows_update`) whose WHERE
    compares the stored answer with the new one (`_changed_condition`), so an unchanged row is
    neither written nor sent back; elsewhere (SQLite) the same comparison in Python and
    `bulk_update`."""
    if not stored:
        return set()
    if connection.vendor != "postgresql":
        current = {
            row[0]: row[1:]
            for row in PersonStatus.objects.filter(person_id__in=list(stored)).values_list("person_id", *ANSWER_FIELDS)
        }
        changed = [
            pid
            for pid, values in stored.items()
            if locked[pid].version == 0
            or locked[pid].dirty_since is not None
            or current[pid] != tuple(values[name] for name in ANSWER_FIELDS)
        ]
        PersonStatus.objects.bulk_update([PersonStatus(person_id=pid, **stored[pid]) for pid in changed], STORED_FIELDS)
        return set(changed)
    meta = PersonStatus._meta
    qn = connection.ops.quote_name
    fields = [meta.get_field(name) for name in STORED_FIELDS]
    records = []
    for pid, values in stored.items():
        record = {"pk": pid}
        for i, name in enumerate(STORED_FIELDS):
            value = values[name]
            record[f"c{i}"] = value.isoformat() if isinstance(value, dt.datetime) else value
        records.append(record)
    columns = ", ".join(["pk bigint", *(f"c{i} {f.db_type(connection)}" for i, f in enumerate(fields))])
    assignments = ", ".join(f"{qn(f.column)} = v.c{i}" for i, f in enumerate(fields))
    table = qn(meta.db_table)
    sql = (
        f"UPDATE {table} AS ps SET {assignments} FROM jsonb_to_recordset(%s::jsonb) AS v({columns}) "
        f"WHERE ps.{qn(meta.pk.column)} = v.pk AND ({_changed_condition()}) RETURNING ps.{qn(meta.pk.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [json.dumps(records, ensure_ascii=False)])
        return {row[0] for row in cursor.fetchall()}


@functools.cache
def _changed_condition() -> str:
    """SQL: the stored row `ps` differs from the new answer `v` (or is dirty, or was never
    computed). jsonb compares by value, so the same popups and reasons are equal however their
    keys were ordered when written."""
    meta = PersonStatus._meta
    qn = connection.ops.quote_name
    index = {name: i for i, name in enumerate(STORED_FIELDS)}
    terms = ["ps.version = 0", f"ps.{qn('dirty_since')} IS NOT NULL"]
    for name in ANSWER_FIELDS:
        terms.append(f"ps.{qn(meta.get_field(name).column)} IS DISTINCT FROM v.c{index[name]}")
    return " OR ".join(terms)


def _episodes_end(ended: list[tuple]) -> None:
    """Close popup episodes: (id, ended_at, ended_by, release id) each, in one statement."""
    if not ended:
        return
    objs = [Popup(id=pk, ended_at=at, ended_by=by, release_id=release) for pk, at, by, release in ended]
    rows_update(Popup, objs, ["ended_at", "ended_by", "release"])


def _instances(ids, written: dict[int, dict], locked=None) -> dict[int, PersonStatus]:
    """The answer of `status_refresh_many`: every row as stored now. Rows just written are made
    from their new values; the rest (unchanged, or newer than this recomputation) are read back."""
    out = {}
    for pid, values in written.items():
        row = PersonStatus(person_id=pid, evidence_watermark=locked[pid].evidence_watermark, **values)
        row._state.adding = False
        row._state.db = connection.alias
        out[pid] = row
    rest = [pid for pid in ids if pid not in out]
    if rest:
        out.update((row.person_id, row) for row in PersonStatus.objects.filter(in_array(PersonStatus, "person", rest)))
    return out


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


def status_current(*, person_id: int) -> PersonStatus:
    """The person's status as of now: the stored row when it is still valid, else recomputed
    before answering (never served stale).

    Inside `replicas.reading()` (the status look-up) the row is read from the read replica it
    picked (README: Read replicas); a row that is missing, dirty or past its `next_change_at` there
    is recomputed on the primary as always, and a replica that fails under the read is marked down
    and the primary answers."""
    alias = replicas.reading_alias()
    row = None
    if alias is not None:
        try:
            row = status_row(person_id=person_id, using=alias)
        except (OperationalError, InterfaceError) as e:
            replicas.mark_down(alias, e)
            alias = None
    if alias is None:
        row = status_row(person_id=person_id)
    t = now()
    if row is None or row.dirty_since is not None or (row.next_change_at is not None and row.next_change_at <= t):
        row = status_refresh(person_id=person_id)
    return row


def status_row(*, person_id: int, using: str = DEFAULT_DB_ALIAS) -> PersonStatus | None:
    """The stored row, read by primary key with one prepared statement text and the fields'
    own converters: the read path of every look-up (millions a day), where building the query
    through the ORM cost more than running it. `using`: the database alias (a read replica)."""
    reader = row_reader(PersonStatus, "person", using)
    with connections[using].cursor() as cursor:
        cursor.execute(reader.sql, [person_id])
        return reader.instance(cursor.fetchone(), using)


def status_mark_dirty(*, person_ids: Iterable[int]) -> list[int]:
    """Mark persons whose facts changed and schedule their recomputation after commit, in the
    caller's transaction. Returns the ids marked.

    One `INSERT … ON CONFLICT (person_id) DO UPDATE SET dirty_since` a page of persons: a person
    never computed gets a row marked dirty (so the sweep, and the restrictions feed's catch-up,
    find them even if the scheduled task is lost with the broker), a known one has its row marked.
    The ids go in as one parameter (an array on PostgreSQL, JSON on SQLite), in id order, so two
    batches marking the same persons lock their rows in the same order and never deadlock. It
    replaced a `bulk_create(ignore_conflicts)` of rows that mostly existed, then an UPDATE: a
    quarter of a feed batch."""
    ids = sorted(set(person_ids))
    if not ids:
        return ids
    t = now()
    sql, values = _mark_dirty_statement(connection.vendor)
    params = [field.get_db_prep_save(value(t), connection) for field, value in values]
    with connection.cursor() as cursor:
        for start in range(0, len(ids), MARK_PAGE):
            page = ids[start : start + MARK_PAGE]
            cursor.execute(sql, [*params, page if connection.vendor == "postgresql" else json.dumps(page)])
    _schedule(ids)
    return ids


MARK_PAGE = 10_000  # persons a statement: a feed batch is one, a fan-out's marking a few


@functools.cache
def _mark_dirty_statement(vendor: str) -> tuple[str, list]:
    """The upsert of `status_mark_dirty` and, for every other column, its value for a new row
    (a function of the time): the row a first computation would lock, due now."""
    meta = PersonStatus._meta
    qn = connection.ops.quote_name
    at_t = {"computed_at", "valid_until", "state_since", "dirty_since"}
    columns, values = [], []
    for f in meta.concrete_fields:
        if f.primary_key:
            continue
        columns.append(qn(f.column))
        if f.attname in at_t:
            values.append((f, lambda t: t))
        else:
            values.append((f, lambda _t, f=f: f.get_default()))
    pk = qn(meta.pk.column)
    if vendor == "postgresql":
        person, ids = "ids.id", "unnest(%s::bigint[]) AS ids(id)"
    else:
        person, ids = "ids.value", "json_each(%s) AS ids"
    sql = (
        f"INSERT INTO {qn(meta.db_table)} ({pk}, {', '.join(columns)}) "
        f"SELECT {person}, {', '.join(['%s'] * len(columns))} FROM {ids} "
        # WHERE true: SQLite reads ON CONFLICT after a bare FROM as a join's (its documented quirk).
        f"WHERE true ON CONFLICT ({pk}) DO UPDATE SET {qn('dirty_since')} = excluded.{qn('dirty_since')}"
    )
    return sql, values


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
    status_metrics.fanout_started(at=t, total=len(ids))  # its progress at /metrics
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
