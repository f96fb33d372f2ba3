"""The write path of the materialised status: recomputation of one person, marking persons whose
facts changed, and the fan-out of area-wide changes (SPEC §10).

Correctness never depends on a task having run: a row is recomputed on read when it is marked
dirty or past its `next_change_at`; the tasks only keep rows fresh ahead of reads.
"""

import datetime as dt
import logging
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import Q

from apps.core.clock import now

from .choices import PopupEnd
from .engine import StatusResult, evaluate
from .models import PersonStatus, Popup, Release, StatusTransition
from .selectors import person_facts

logger = logging.getLogger(__name__)
CHUNK = 500


def _locked_row(person_id: int) -> PersonStatus | None:
    return PersonStatus.objects.select_for_update().filter(person_id=person_id).first()


def status_refresh(*, person_id: int) -> PersonStatus:
    """Recompute one person's status now and store it, its popup episodes and its transitions.

    Holds the row lock while reading facts, so two recomputations of one person never interleave
    and the later one always sees at least the facts the earlier one saw; a row already computed
    at a later moment is left alone (a late task never overwrites a newer result)."""
    with transaction.atomic():
        row = _locked_row(person_id)
        if row is None:
            t0 = now()
            try:
                with transaction.atomic():
                    PersonStatus.objects.create(
                        person_id=person_id, computed_at=t0, valid_until=t0, state_since=t0, dirty_since=t0
                    )
            except IntegrityError:
                pass  # created concurrently
            row = _locked_row(person_id)
            fresh = True
        else:
            fresh = False
        t = now()
        if not fresh and row.computed_at > t:
            return row
        result = evaluate(person_facts(person_id, t), t)
        _store(row, result, t, fresh=fresh)
        return row


def _store(row: PersonStatus, result: StatusResult, t: dt.datetime, *, fresh: bool) -> None:
    previous_state = row.state
    if fresh:
        row.state_since = min([p.since for p in result.popups] + [t]) if result.state != "green" else t
    elif result.state != previous_state:
        # Date the change when it was due (a clock-driven change found by a later sweep or read).
        due = row.next_change_at
        at = due if (due is not None and due <= t and row.dirty_since is None) else t
        StatusTransition.objects.create(person_id=row.person_id, from_state=previous_state, to_state=result.state, at=at)
        row.state_since = at
    row.state = result.state
    row.popups = [p.as_json() for p in result.popups]
    row.reasons = [r.as_json() for r in result.reasons]
    row.computed_at = t
    row.next_change_at = result.next_change_at
    row.valid_until = result.valid_until
    row.dirty_since = None
    row.version += 1
    row.save()
    _sync_episodes(row.person_id, result, t)


def _sync_episodes(person_id: int, result: StatusResult, t: dt.datetime) -> None:
    open_episodes = {p.number: p for p in Popup.objects.filter(person_id=person_id, ended_at__isnull=True)}
    active = {p.number: p for p in result.popups}
    for number, popup in active.items():
        if number not in open_episodes:
            Popup.objects.create(person_id=person_id, number=number, since=popup.since)
    for number, episode in open_episodes.items():
        if number in active:
            continue
        episode.ended_at = t
        if number in result.released:
            episode.ended_by = PopupEnd.RELEASE
            episode.release = Release.objects.filter(person_id=person_id, popup_number=number).order_by("-evidence_watermark", "-id").first()
        else:
            episode.ended_by = PopupEnd.AUTO
        episode.save(update_fields=["ended_at", "ended_by", "release"])


def status_current(*, person_id: int) -> PersonStatus:
    """The person's status as of now: the stored row when it is still valid, else recomputed
    before answering (never served stale)."""
    row = PersonStatus.objects.filter(person_id=person_id).first()
    t = now()
    if row is None or row.dirty_since is not None or (row.next_change_at is not None and row.next_change_at <= t):
        row = status_refresh(person_id=person_id)
    return row


def status_mark_dirty(*, person_ids: Iterable[int]) -> list[int]:
    """Mark persons whose facts changed (set-based) and schedule their recomputation after commit.
    Returns the ids marked."""
    ids = sorted(set(person_ids))
    if not ids:
        return ids
    t = now()
    for start in range(0, len(ids), CHUNK):
        PersonStatus.objects.filter(person_id__in=ids[start : start + CHUNK]).update(dirty_since=t)
    _schedule(ids)
    return ids


def _schedule(ids: list[int]) -> None:
    """Enqueue recomputation in chunks once the marking transaction has committed."""
    from .tasks import recompute_persons

    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        transaction.on_commit(lambda chunk=chunk: recompute_persons.delay(chunk))


def persons_with_stays_in(*, county_codes: Iterable[str], since: dt.datetime):
    """Ids of persons with a stay in any of these counties, or a city-precision stay in a city
    containing one of them, departed at or after `since` (or still there) — directly or through a
    phone number. Set-based over the indexed stays; never a loop over persons."""
    from apps.areas.models import Area
    from apps.evidence.models import Stay
    from apps.people.models import Phone

    codes = list(county_codes)
    city_codes = Area.objects.filter(code__in=codes).values("city_id")
    in_area = Q(area_id__in=codes, precision="county") | Q(area_id__in=city_codes, precision="city")
    recent = Q(departed_at__isnull=True) | Q(departed_at__gte=since)
    stays = Stay.objects.filter(in_area & recent)
    direct = stays.filter(person_id__isnull=False).values("person_id")
    via_phone = Phone.objects.filter(number_hash__in=stays.exclude(phone_hash="").values("phone_hash")).values("person_id")
    from apps.people.models import Person

    return Person.objects.filter(Q(pk__in=direct) | Q(pk__in=via_phone)).values_list("pk", flat=True)


def status_fanout_areas(*, county_codes: list[str]) -> int:
    """A designation, local-case report or border-port change: mark every person who may be
    affected and schedule their recomputation in chunks. Returns how many were marked."""
    from apps.areas.selectors import policy_at

    t = now()
    since = t - policy_at(t).lookback
    affected = persons_with_stays_in(county_codes=county_codes, since=since)
    # One set-based UPDATE marks them all inside the caller's transaction, so no read can be
    # served the old status even before the recomputation tasks have run.
    PersonStatus.objects.filter(person_id__in=affected).update(dirty_since=t)
    ids = list(affected)
    _schedule(ids)
    return len(ids)


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
    from apps.people.models import Person

    count = 0
    last = 0
    while True:
        ids = list(Person.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch])
        if not ids:
            return count
        for pid in ids:
            status_refresh(person_id=pid)
        count += len(ids)
        last = ids[-1]
