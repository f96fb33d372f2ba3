"""The sealed audit: every audit row (manual changes, `AuditEvent`, which every release and review
also writes; staff look-ups, `AccessLog`) becomes a leaf of an append-only Merkle tree (RFC 6962,
as Certificate Transparency and Trillian keep their logs, `apps.audit.merkle`), and a signed
checkpoint of its head is written by every run of the sealer (`apps.audit.signing`). Anyone holding
a checkpoint can tell whether a sealed row was changed, removed, inserted or reordered since.

**Nothing on the hot paths.** Rows are inserted as before, append-only, with their ids from the
table's sequence; no inserting transaction computes a link or takes a lock on a head. The sealer
(`audit_seal`: the beat task `apps.audit.tasks.seal` every minute, `manage.py audit_seal`,
`manage.py audit_verify --seal`) appends the rows not yet sealed, source by source in the order of
`SOURCES`, each in id order, in batches of `SEAL_BATCH` (each its own short transaction), and
then signs a checkpoint. One sealer at a time: an advisory lock (`AUDIT_SEAL_LOCK`).

**Which rows are settled (the sealing order rule).** Sealing by id in order is only sound if no
row with a lower id can still appear: a transaction that drew id 100 may commit after the one that
drew 101 was sealed. The sealer reads each table's highest visible id (the *head*) and then waits
for the transactions that hold a `RowExclusiveLock` on that table, as `pg_locks` shows them, to
end. An INSERT takes that lock when its statement starts, before it draws its id, and keeps it
until its transaction ends; and ids are drawn in increasing order (Django's identity columns, CACHE
1). So every transaction that drew an id up to the head held the lock before the head was read:
once those found holding it have ended, every row up to the head is committed or never will be,
and the rows up to the head are sealed in id order, gaps (rolled-back ids) skipped for good. This
waits only for the transactions writing that table (not for unrelated long transactions, or other
databases of the cluster, as the snapshot's xmin horizon would), needs no time margin (as a lag
would, with its assumption that no transaction stays open longer), and never blocks an insert. A
table whose writers do not end within `wait` seconds is not sealed this run; the next run tries
again. On SQLite (development) one writer at a time commits, in id order: the head is settled.

**A leaf.** The row's canonical bytes are the JSON of its columns (`Source.columns`) and its source,
keys sorted, no spaces, times in UTC (`2021-07-01T01:00:00.000000Z`), nulls left out (so a nullable
column added later leaves the rows sealed before it verifiable); any UPDATE of any column changes
them. Its `digest` is their SHA-256; the leaf's entry is the JSON of `{"at", "digest", "id",
"source"}` and its hash SHA-256(0x00 || entry). The leaf (`AuditLeaf`: seq, source, row id, time,
digest, hash) is kept when the row is purged.

**Purges.** Only the access log is purged, by the retention purge, which marks the leaves of the
rows it deletes (`AuditLeafPurge`) in the same statement (on PostgreSQL inside its SECURITY DEFINER
function, apps.retention.db). A row whose leaf is missing its row is *purged* when it has such a
mark and its sealed time was older than the retention period at the mark (and the mark is not in
the future); otherwise it was *removed*. A forged mark can therefore only hide the deletion of a
row the purge would have deleted anyway.

**Verification** (`audit_verify`, `manage.py audit_verify`) checks the checkpoint's signature with
the public key alone, walks the leaves from the first, recomputes each leaf's hash from what it
records and the digest of its row, rebuilds the tree and compares its root with every checkpoint
met on the way (so an older checkpoint is a prefix of the newer: consistency), then looks for rows
with no leaf below the highest id sealed (an insertion). It reports every problem, the first first.

What it proves: the rows sealed by a checkpoint an auditor holds are the rows in the database now
(purges as above). The signing key is in the workers' environment, so an attacker holding both it
and the database owner's role could rebuild the log and sign new checkpoints; those do not match
the checkpoints already published, which is why auditors keep them.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Exists, Max, OuterRef

from apps.core import clock

from . import signing
from .merkle import CompactRange
from .models import AccessLog, AuditCheckpoint, AuditEvent, AuditLeaf, AuditLeafPurge

SEAL_BATCH = 5_000  # rows a transaction of the sealer
SEAL_MAX_ROWS = 50_000  # rows a run (a task's time limit); the next run goes on
SEAL_WAIT_SECONDS = 10.0  # how long a run waits for a table's writers to end
HEARTBEAT = dt.timedelta(hours=1)  # a checkpoint at least this often, even when nothing new was sealed
VERIFY_BATCH = 5_000
PURGE_LEEWAY = dt.timedelta(hours=1)  # the purge functions' leeway for the servers' clocks


@dataclass(frozen=True)
class Source:
    """An audit table whose rows are sealed: its name in the leaves, its model, the columns of its
    canonical bytes (every concrete column: tests/audit check it), its time column, and the
    setting naming its retention period in days when the retention purge removes its rows."""

    name: str
    model: type[models.Model]
    columns: tuple[str, ...]
    time_column: str = "at"
    purged_after_setting: str = ""

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    def retention(self) -> dt.timedelta | None:
        if not self.purged_after_setting:
            return None
        return dt.timedelta(days=getattr(settings, self.purged_after_setting))


SOURCES: dict[str, Source] = {}


def source_register(source: Source) -> Source:
    """Seal the rows of another append-only table too (its app calls this in `ready()`). A source
    is never renamed or removed once rows are sealed: its leaves name it."""
    existing = SOURCES.get(source.name)
    if existing is not None and existing != source:
        raise ValueError(f"audit source {source.name} is already registered")
    SOURCES[source.name] = source
    return source


source_register(
    Source(
        "audit",
        AuditEvent,
        ("id", "kind", "actor_id", "actor_org_id", "person_id", "at", "reason", "detail", "origin"),
    )
)
source_register(
    Source(
        "access",
        AccessLog,
        ("id", "actor_id", "person_id", "at", "why", "via"),
        purged_after_setting="RETENTION_ACCESS_LOG_DAYS",
    )
)


# --- canonical bytes -------------------------------------------------------------------------------


def _value(value):
    if isinstance(value, dt.datetime):
        return signing.at_text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return value


def _json(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def row_bytes(source: Source, row: dict) -> bytes:
    """The canonical bytes of a row (its `columns` as read by the ORM)."""
    content = {column: _value(row[column]) for column in source.columns if row[column] is not None}
    content["source"] = source.name
    return _json(content)


def row_digest(source: Source, row: dict) -> str:
    return hashlib.sha256(row_bytes(source, row)).hexdigest()


def leaf_entry(*, source: str, row_id: int, at: dt.datetime, digest: str) -> bytes:
    return _json({"at": signing.at_text(at), "digest": digest, "id": int(row_id), "source": source})


def leaf_hash(*, source: str, row_id: int, at: dt.datetime, digest: str) -> bytes:
    from .merkle import leaf_hash as hash_entry

    return hash_entry(leaf_entry(source=source, row_id=row_id, at=at, digest=digest))


def _rows(source: Source, *, after: int, upto: int, limit: int) -> list[dict]:
    return list(
        source.model._base_manager.filter(pk__gt=after, pk__lte=upto).order_by("pk").values(*source.columns)[:limit]
    )


# --- which rows are settled ------------------------------------------------------------------------

WRITERS_SQL = """
SELECT c.relname, l.virtualtransaction
FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
WHERE l.locktype = 'relation' AND l.mode = 'RowExclusiveLock'
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND c.relname = ANY (%s) AND c.relnamespace = current_schema()::regnamespace
  AND l.pid IS DISTINCT FROM pg_backend_pid()
"""


def _writers(tables: list[str]) -> dict[str, set[str]]:
    """The transactions (virtual ids) other than ours holding a RowExclusiveLock on each table."""
    found: dict[str, set[str]] = {table: set() for table in tables}
    with connection.cursor() as cursor:
        cursor.execute(WRITERS_SQL, [tables])
        for table, vxid in cursor.fetchall():
            found[table].add(vxid)
    return found


def settled_heads(
    sources: list[Source], *, wait: float = SEAL_WAIT_SECONDS
) -> tuple[dict[str, int | None], dict[str, int]]:
    """Each source's head that is settled (every row up to it committed or never to be), and, for
    a source whose writers did not end within `wait` seconds, how many were still open (its head
    is then None: nothing of it is sealed this run). See the module's docstring."""
    heads = {s.name: s.model._base_manager.aggregate(m=Max("pk"))["m"] or 0 for s in sources}
    if connection.vendor != "postgresql":
        return heads, {}
    tables = {s.table: s.name for s in sources}
    pending = {table: vxids for table, vxids in _writers(list(tables)).items() if vxids}
    deadline = time.monotonic() + wait
    pause = 0.01
    while pending:
        if time.monotonic() >= deadline:
            break
        time.sleep(pause)
        pause = min(pause * 2, 0.2)
        now_writing = _writers(list(pending))
        pending = {table: vxids & now_writing[table] for table, vxids in pending.items() if vxids & now_writing[table]}
    waiting = {tables[table]: len(vxids) for table, vxids in pending.items()}
    for name in waiting:
        heads[name] = None
    return heads, waiting


# --- sealing ---------------------------------------------------------------------------------------


@dataclass
class SealResult:
    sealed: dict[str, int] = field(default_factory=dict)  # rows sealed this run, by source
    size: int = 0
    root: str = ""
    checkpoint: AuditCheckpoint | None = None
    waiting: dict[str, int] = field(default_factory=dict)  # sources left for the next run: writers still open

    @property
    def count(self) -> int:
        return sum(self.sealed.values())


def _log_head() -> tuple[AuditCheckpoint | None, CompactRange]:
    """The last checkpoint and the tree of every leaf written so far (the checkpoint's compact range,
    then the leaves a run that stopped half-way wrote after it)."""
    last = AuditCheckpoint.objects.order_by("-size", "-id").first()
    tree = CompactRange.from_json(last.size, last.frontier) if last else CompactRange()
    later = AuditLeaf.objects.filter(seq__gte=tree.size).order_by("seq").values_list("seq", "leaf_hash")
    for seq, digest in later.iterator(chunk_size=VERIFY_BATCH):
        if seq != tree.size:
            raise RuntimeError(f"audit leaf {tree.size} is missing (found {seq}): run manage.py audit_verify")
        tree.append(bytes.fromhex(digest))
    return last, tree


def checkpoint_write(tree: CompactRange) -> AuditCheckpoint:
    key = signing.signing_key()
    at = clock.now()
    root = tree.root().hex()
    return AuditCheckpoint.objects.create(
        size=tree.size,
        root=root,
        at=at,
        signature=signing.checkpoint_sign(key, size=tree.size, root=root, at=signing.at_text(at)),
        kid=signing.key_id(key.public_key()),
        frontier=tree.to_json(),
    )


def seal(*, wait: float = SEAL_WAIT_SECONDS, max_rows: int = SEAL_MAX_ROWS, batch: int = SEAL_BATCH) -> SealResult:
    """Append the settled rows not yet sealed to the log and sign a checkpoint of it (when something
    was sealed, or the last checkpoint is older than `HEARTBEAT`). The caller holds the sealer's
    lock (`apps.audit.services.audit_seal`)."""
    sources = list(SOURCES.values())
    last, tree = _log_head()
    heads, waiting = settled_heads(sources, wait=wait)
    result = SealResult(waiting=waiting)
    budget = max_rows
    for source in sources:
        head = heads[source.name]
        if head is None:
            continue
        done = AuditLeaf.objects.filter(source=source.name).aggregate(m=Max("row_id"))["m"] or 0
        count = 0
        while budget > 0 and done < head:
            rows = _rows(source, after=done, upto=head, limit=min(batch, budget))
            if not rows:
                break
            leaves = []
            for row in rows:
                digest = row_digest(source, row)
                at = row[source.time_column]
                hashed = leaf_hash(source=source.name, row_id=row["id"], at=at, digest=digest)
                leaves.append(
                    AuditLeaf(
                        seq=tree.size,
                        source=source.name,
                        row_id=row["id"],
                        at=at,
                        digest=digest,
                        leaf_hash=hashed.hex(),
                    )
                )
                tree.append(hashed)
            with transaction.atomic():
                AuditLeaf.objects.bulk_create(leaves)
            done = rows[-1]["id"]
            count += len(rows)
            budget -= len(rows)
        if count:
            result.sealed[source.name] = count
    grew = last is None or tree.size != last.size
    if grew or clock.now() - last.at >= HEARTBEAT:
        result.checkpoint = checkpoint_write(tree)
    result.size, result.root = tree.size, tree.root().hex()
    return result


# --- verification ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint as published (`GET /api/v1/audit/checkpoints/`): what an auditor holds."""

    size: int
    root: str
    at: str
    signature: str
    kid: str

    @classmethod
    def of(cls, row: AuditCheckpoint) -> Checkpoint:
        return cls(row.size, row.root, signing.at_text(row.at), row.signature, row.kid)

    @classmethod
    def from_json(cls, data: dict) -> Checkpoint:
        return cls(int(data["size"]), str(data["root"]), str(data["at"]), str(data["signature"]), str(data["kid"]))

    def as_json(self) -> dict:
        return {"at": self.at, "size": self.size, "root": self.root, "signature": self.signature, "kid": self.kid}


@dataclass(frozen=True)
class Problem:
    """What verification found. `kind`: changed (the row differs from its leaf), removed (the row of
    a leaf is gone, and not by the purge), inserted (a row below the sealed head has no leaf),
    reordered (a leaf out of its source's id order), leaf_altered (a leaf's record does not give its
    hash), leaf_missing (a gap in the sequence numbers), root_mismatch (the leaves do not give a
    checkpoint's root), bad_signature, unknown_key, beyond_log (a checkpoint larger than the log)."""

    kind: str
    source: str = ""
    row_id: int | None = None
    seq: int | None = None
    detail: str = ""

    def __str__(self) -> str:
        where = []
        if self.source:
            where.append(f"{self.source} id {self.row_id}")
        if self.seq is not None:
            where.append(f"seq {self.seq}")
        text = self.kind + (f": {', '.join(where)}" if where else "")
        return text + (f" ({self.detail})" if self.detail else "")


@dataclass
class Report:
    checkpoint: Checkpoint | None
    leaves: int = 0
    present: int = 0
    purged: int = 0
    checkpoints_checked: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.checkpoint is not None and not self.problems

    @property
    def first(self) -> Problem | None:
        return self.problems[0] if self.problems else None


def _db_now() -> dt.datetime:
    t = clock.now()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT now()")
            t = max(t, cursor.fetchone()[0])
    return t


def _signature_problem(checkpoint: Checkpoint, keys: dict) -> Problem | None:
    key = keys.get(checkpoint.kid)
    if key is None:
        return Problem("unknown_key", detail=f"checkpoint of size {checkpoint.size}, kid {checkpoint.kid}")
    if not signing.checkpoint_signature_valid(
        key, size=checkpoint.size, root=checkpoint.root, at=checkpoint.at, signature=checkpoint.signature
    ):
        return Problem("bad_signature", detail=f"checkpoint of size {checkpoint.size} at {checkpoint.at}")
    return None


def _leaf_chunks(size: int) -> Iterator[list[AuditLeaf]]:
    last = -1
    while last + 1 < size:
        chunk = list(AuditLeaf.objects.filter(seq__gt=last, seq__lt=size).order_by("seq")[:VERIFY_BATCH])
        if not chunk:
            return
        yield chunk
        last = chunk[-1].seq


def verify(*, checkpoint: Checkpoint | None = None, others: list[Checkpoint] = ()) -> Report:
    """Check the audit against `checkpoint` (the latest stored when None), and against `others`
    (checkpoints an auditor kept) and every stored checkpoint no larger than it on the way."""
    if checkpoint is None:
        latest = AuditCheckpoint.objects.order_by("-size", "-id").first()
        if latest is None:
            return Report(checkpoint=None)
        checkpoint = Checkpoint.of(latest)
    report = Report(checkpoint=checkpoint)
    keys = signing.verification_keys()
    at_size: dict[int, list[Checkpoint]] = {}
    stored = AuditCheckpoint.objects.filter(size__lte=checkpoint.size).order_by("size", "id")
    for cp in [*(Checkpoint.of(row) for row in stored.iterator(chunk_size=VERIFY_BATCH)), *others, checkpoint]:
        if cp.size <= checkpoint.size and cp not in at_size.get(cp.size, []):
            at_size.setdefault(cp.size, []).append(cp)
    for cp in (cp for group in at_size.values() for cp in group):
        if problem := _signature_problem(cp, keys):
            report.problems.append(problem)
    for cp in others:
        if cp.size > checkpoint.size:
            report.problems.append(
                Problem("beyond_log", detail=f"checkpoint of size {cp.size} is newer: verify with it")
            )

    tree = CompactRange()
    now = _db_now()
    highest: dict[str, int] = {}

    def roots_check() -> None:
        for cp in at_size.get(tree.size, ()):
            report.checkpoints_checked += 1
            if tree.root().hex() != cp.root:
                report.problems.append(
                    Problem("root_mismatch", detail=f"checkpoint of size {cp.size}: a leaf below it is not as signed")
                )

    roots_check()  # the empty tree
    for chunk in _leaf_chunks(checkpoint.size):
        by_source: dict[str, list[int]] = {}
        for leaf in chunk:
            by_source.setdefault(leaf.source, []).append(leaf.row_id)
        rows: dict[tuple[str, int], dict] = {}
        for name, ids in by_source.items():
            source = SOURCES.get(name)
            if source is None:
                continue
            for row in source.model._base_manager.filter(pk__in=ids).values(*source.columns):
                rows[(name, row["id"])] = row
        marks = dict(
            AuditLeafPurge.objects.filter(leaf_id__in=[leaf.seq for leaf in chunk]).values_list("leaf_id", "purged_at")
        )
        for leaf in chunk:
            while tree.size < leaf.seq:  # a gap: the tree cannot be rebuilt past it
                report.problems.append(Problem("leaf_missing", seq=tree.size))
                tree.append(b"\x00" * 32)
                roots_check()
            report.leaves += 1
            computed = leaf_hash(source=leaf.source, row_id=leaf.row_id, at=leaf.at, digest=leaf.digest)
            if computed.hex() != leaf.leaf_hash:
                report.problems.append(Problem("leaf_altered", leaf.source, leaf.row_id, leaf.seq))
            if leaf.row_id <= highest.get(leaf.source, 0):
                report.problems.append(Problem("reordered", leaf.source, leaf.row_id, leaf.seq))
            highest[leaf.source] = max(highest.get(leaf.source, 0), leaf.row_id)
            source = SOURCES.get(leaf.source)
            row = rows.get((leaf.source, leaf.row_id))
            if source is None:
                report.problems.append(Problem("changed", leaf.source, leaf.row_id, leaf.seq, "unknown source"))
            elif row is not None:
                report.present += 1
                if row_digest(source, row) != leaf.digest or row[source.time_column] != leaf.at:
                    report.problems.append(Problem("changed", leaf.source, leaf.row_id, leaf.seq))
            elif _purged(source, leaf, marks.get(leaf.seq), now):
                report.purged += 1
            else:
                report.problems.append(Problem("removed", leaf.source, leaf.row_id, leaf.seq))
            tree.append(computed)
            roots_check()
    if tree.size < checkpoint.size:
        report.problems.append(Problem("leaf_missing", seq=tree.size, detail=f"the log ends at {tree.size} leaves"))

    for name, head in highest.items():
        source = SOURCES.get(name)
        if source is None:
            continue
        sealed = AuditLeaf.objects.filter(source=name, row_id=OuterRef("pk"), seq__lt=checkpoint.size)
        forged = source.model._base_manager.filter(pk__lte=head).filter(~Exists(sealed)).order_by("pk")
        for row_id in forged.values_list("pk", flat=True)[:1000]:
            report.problems.append(Problem("inserted", name, row_id))
    report.problems.sort(key=lambda p: (p.seq is None, p.seq if p.seq is not None else 0, p.row_id or 0))
    return report


def _purged(source: Source, leaf: AuditLeaf, purged_at: dt.datetime | None, now: dt.datetime) -> bool:
    retention = source.retention()
    if retention is None or purged_at is None:
        return False
    return purged_at <= now + PURGE_LEEWAY and leaf.at < purged_at - retention + PURGE_LEEWAY


# --- the purge's marks (the ORM path: SQLite; PostgreSQL marks inside the purge function) ----------


def purged_leaves_mark(*, source: str, row_ids: list[int], at: dt.datetime) -> int:
    """Mark the leaves of these rows, which the retention purge is deleting, as purged."""
    seqs = AuditLeaf.objects.filter(source=source, row_id__in=row_ids).exclude(purge__isnull=False)
    marks = [AuditLeafPurge(leaf_id=seq, purged_at=at) for seq in seqs.values_list("seq", flat=True)]
    AuditLeafPurge.objects.bulk_create(marks)
    return len(marks)


# --- publishing --------------------------------------------------------------------------------------


def checkpoints_published(*, limit: int = 100, before_size: int | None = None) -> list[dict]:
    """The latest checkpoints, newest first, as the API publishes them: the signed fields, and the
    algorithm and public key of each one's signer (README: Sealed audit)."""
    keys = {kid: signing.public_b64(key) for kid, key in signing.verification_keys().items()}
    rows = AuditCheckpoint.objects.order_by("-size", "-id")
    if before_size is not None:
        rows = rows.filter(size__lt=before_size)
    return [
        {**Checkpoint.of(row).as_json(), "alg": signing.ALG, "public_key": keys.get(row.kid)} for row in rows[:limit]
    ]
