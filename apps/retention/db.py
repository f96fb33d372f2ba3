"""The retention purge's way past the append-only guards (apps.core.db), on PostgreSQL.

The access log and the row history of stays, phones and appeals refuse DELETE and UPDATE to every
role; the purge changes them only through these SECURITY DEFINER functions, owned by the migration
owner. The application role may call them, so each one decides itself what is old enough: the
cutoff the caller passes can only narrow it, never reach rows newer than the retention period the
function was installed with (the RETENTION_* settings, less an hour for clocks; re-installed by
every `migrate`, so a changed setting takes effect at the next one). Each works on the ids of one
batch and returns how many rows it changed.

- `healthkit_purge_access_log(ids, before)`: deletes look-ups older than `RETENTION_ACCESS_LOG_DAYS`,
  and marks their leaves of the sealed audit purged (`audit_auditleafpurge`, apps.audit.chain), so
  verification tells them from rows removed by anyone else.
- `healthkit_purge_stay_history(erase_ids, delete_ids, before)`: for telecom stays that departed
  more than `RETENTION_TELECOM_MARGIN_DAYS` ago (the look-back window can be 0), blanks the phone
  link of the history of `erase_ids` and deletes the history of `delete_ids`.
- `healthkit_erase_phone_history(ids, before)`: blanks the number in the history of bindings
  unbound more than `RETENTION_PHONE_UNBOUND_DAYS` ago.
- `healthkit_erase_appeal_history(ids, before)`: blanks the caller's phone in the history of
  appeals closed more than `RETENTION_PERSONAL_DATA_DAYS` ago.

They judge by the live row (a stay's departure, a binding's unbinding, an appeal's closing), so
the purge calls them before it deletes or anonymises the live rows of a batch. The audit of manual
changes, releases, appeal events and status transitions have no such function: nothing purges them.
"""

from django.conf import settings

from apps.appeals.choices import AppealStatus
from apps.core.db import purge_function_install
from apps.evidence.choices import StaySource

CLOSED_APPEAL_STATES = (AppealStatus.RESOLVED, AppealStatus.REJECTED)


def _cutoff(days: int) -> str:
    """The PL/pgSQL declaration of `cutoff`: the caller's, but never later than `days` ago (an hour
    of leeway for the application servers' clocks)."""
    return f"cutoff timestamptz := least(before, now() - make_interval(days => {int(days)}) + interval '1 hour');"


REQUIRE_CUTOFF = "IF before IS NULL THEN RAISE EXCEPTION 'a cutoff is required'; END IF; "


def _functions() -> list[tuple[str, str, str, str]]:
    """(name, arguments, declarations, statements adding up the rows changed in `n`) of each."""
    telecom = StaySource.TELECOM.value
    closed = ", ".join(f"'{s.value}'" for s in CLOSED_APPEAL_STATES)
    return [
        (
            "healthkit_purge_access_log",
            "ids bigint[], before timestamptz",
            _cutoff(settings.RETENTION_ACCESS_LOG_DAYS),
            # The leaves of the rows deleted are marked purged in the same statement (apps.audit.chain).
            REQUIRE_CUTOFF + "WITH gone AS (DELETE FROM audit_accesslog WHERE id = ANY (ids) AND at < cutoff "
            "RETURNING id), marked AS (INSERT INTO audit_auditleafpurge (leaf_id, purged_at) "
            "SELECT l.seq, now() FROM audit_auditleaf l JOIN gone ON l.source = 'access' AND l.row_id = gone.id "
            "ON CONFLICT DO NOTHING) SELECT count(*) INTO n FROM gone;",
        ),
        (
            "healthkit_purge_stay_history",
            "erase_ids bigint[], delete_ids bigint[], before timestamptz",
            _cutoff(settings.RETENTION_TELECOM_MARGIN_DAYS),
            REQUIRE_CUTOFF
            + "UPDATE evidence_historicalstay h SET phone_hash = '', person_id = NULL FROM evidence_stay s "
            f"WHERE h.id = ANY (erase_ids) AND s.id = h.id AND s.source = '{telecom}' AND s.departed_at < cutoff "
            "AND (h.phone_hash <> '' OR h.person_id IS NOT NULL); "
            "GET DIAGNOSTICS n = ROW_COUNT; "
            "DELETE FROM evidence_historicalstay h USING evidence_stay s "
            f"WHERE h.id = ANY (delete_ids) AND s.id = h.id AND s.source = '{telecom}' AND s.departed_at < cutoff; "
            "GET DIAGNOSTICS m = ROW_COUNT; n := n + m;",
        ),
        (
            "healthkit_erase_phone_history",
            "ids bigint[], before timestamptz",
            _cutoff(settings.RETENTION_PHONE_UNBOUND_DAYS),
            REQUIRE_CUTOFF + "UPDATE people_historicalphone h SET number_encrypted = '', number_hash = '' "
            "FROM people_phone p WHERE h.id = ANY (ids) AND p.id = h.id AND p.unbound_at < cutoff "
            "AND (h.number_encrypted <> '' OR h.number_hash <> ''); "
            "GET DIAGNOSTICS n = ROW_COUNT;",
        ),
        (
            "healthkit_erase_appeal_history",
            "ids bigint[], before timestamptz",
            _cutoff(settings.RETENTION_PERSONAL_DATA_DAYS),
            REQUIRE_CUTOFF
            + "UPDATE appeals_historicalappeal h SET caller_phone_encrypted = '', caller_phone_display = '' "
            f"FROM appeals_appeal a WHERE h.id = ANY (ids) AND a.id = h.id AND a.status IN ({closed}) "
            "AND a.resolved_at < cutoff AND (h.caller_phone_encrypted <> '' OR h.caller_phone_display <> ''); "
            "GET DIAGNOSTICS n = ROW_COUNT;",
        ),
    ]


def purge_functions_install(connection) -> None:
    """(Re)create the purge functions with the retention periods now in the settings (PostgreSQL;
    nothing elsewhere). Run by the migration that introduced them and after every `migrate`."""
    if connection.vendor != "postgresql":
        return
    for name, args, declare, statements in _functions():
        purge_function_install(connection, name=name, args=args, declare=declare, statements=statements)


def purge_functions_refresh(connection) -> None:
    """After every `migrate` (apps.core.db.database_sync): re-install the purge functions where
    the migration put them, so that the retention periods they enforce follow the settings."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regproc('healthkit_purge_access_log')")
        installed = cursor.fetchone()[0] is not None
    if installed:
        purge_functions_install(connection)


def purge_call(connection, call: str, *args) -> int:
    """Run `SELECT <call>` (a purge function with its placeholders and casts) in the caller's
    transaction; the rows it changed."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {call}", list(args))
        return cursor.fetchone()[0]
