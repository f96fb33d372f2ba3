"""The background review of every manual release and the decisions on it (SPEC §5).

- `reviews_open` (the door `release_recorded`, in the release's own transaction): one pending
  review per new release, its run enqueued once that transaction commits. A release rolled back
  takes its pending review with it and enqueues nothing.
- `reviews_recheck` (the door `release_reraised`, in the recomputation's transaction): a released
  popup came back; the review notes when and is run again.
- `release_review_run` (the task's body): checks the release (`apps.reviews.checks`) and writes the
  review. Idempotent: a run owes nothing once the review is complete and no re-check is due, so a
  redelivered or duplicated task changes nothing; a re-check only adds findings.
- `review_decide` (auditors: confirm or refer to the CDC) and `review_referral_close` (the CDC),
  each an append-only `ReviewDecision` and an audit event.
"""

import datetime as dt
import functools
import logging
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from apps.accounts import access
from apps.audit.choices import AuditKind, Origin
from apps.audit.services import audit_event_record
from apps.core.clock import local_iso, now
from apps.core.errors import Conflict, NotFoundInJurisdiction
from apps.status.models import Release

from .checks import findings_of, subject_build
from .choices import AUDITOR_DECISIONS, DecisionKind, ReviewStatus
from .models import ReleaseReview, ReviewDecision
from .selectors import release_pk

logger = logging.getLogger(__name__)

DECISION_AUDIT = {
    DecisionKind.CONFIRMED: AuditKind.RELEASE_REVIEW_CONFIRMED,
    DecisionKind.REFERRED: AuditKind.RELEASE_REVIEW_REFERRED,
    DecisionKind.CLOSED: AuditKind.RELEASE_REVIEW_CLOSED,
}


# --- the doors: new releases, popups that came back -------------------------------------------------


def reviews_open(*, release_ids: Iterable[int]) -> list[int]:
    """A pending review for each new release (a bulk release: one each), and its run enqueued
    after the caller's transaction commits. Returns the release ids."""
    ids = sorted(set(release_ids))
    if not ids:
        return ids
    t = now()
    ReleaseReview.objects.bulk_create(
        [ReleaseReview(release_id=pk, created_at=t, due_since=t) for pk in ids], ignore_conflicts=True
    )
    transaction.on_commit(functools.partial(reviews_enqueue, ids))
    return ids


def reviews_recheck(*, release_ids: Iterable[int], at) -> list[int]:
    """These releases' popups came back at `at` (a new episode the engine raised after them): note
    the first time on each review and run it again after commit. Returns the release ids re-checked."""
    pending = ReleaseReview.objects.filter(release_id__in=sorted(set(release_ids)), reraised_at__isnull=True)
    ids = list(pending.values_list("release_id", flat=True))
    if ids:
        ReleaseReview.objects.filter(release_id__in=ids, reraised_at__isnull=True).update(reraised_at=at, due_since=at)
        transaction.on_commit(functools.partial(reviews_enqueue, ids))
    return ids


def reviews_enqueue(release_ids: list[int]) -> None:
    """Send the review tasks of committed releases. A broker that cannot take them must not fail
    the release that was just made: the reviews stay due and the periodic sweep sends them."""
    from kombu.exceptions import KombuError

    from .tasks import release_review

    for i, pk in enumerate(release_ids):
        try:
            release_review.delay(pk)
        except (KombuError, OSError):
            logger.warning("Broker unavailable: %d release reviews left due for the sweep", len(release_ids) - i)
            return


def reviews_sweep(*, grace_seconds: int = 60, limit: int = 10_000) -> int:
    """Send again the reviews due for longer than `grace_seconds` (a task lost with the broker, a
    worker that died and whose message expired). Runs are idempotent, so a duplicate is harmless."""
    cutoff = now() - dt.timedelta(seconds=grace_seconds)
    ids = list(
        ReleaseReview.objects.filter(due_since__lte=cutoff)
        .order_by("due_since")
        .values_list("release_id", flat=True)[:limit]
    )
    reviews_enqueue(ids)
    return len(ids)


# --- the run ---------------------------------------------------------------------------------------


def _locked(release_id: int) -> ReleaseReview | None:
    return (
        ReleaseReview.objects.select_for_update(of=("self",))
        .select_related("release", "release__actor", "release__person")
        .filter(release_id=release_id)
        .first()
    )


@transaction.atomic
def release_review_run(*, release_id: int) -> ReleaseReview | None:
    """Review one release (see the module). None when there is no such release (its transaction
    rolled back after all)."""
    review = _locked(release_id)
    if review is None:
        if not Release.objects.filter(pk=release_id).exists():
            return None
        t = now()
        ReleaseReview.objects.bulk_create(
            [ReleaseReview(release_id=release_id, created_at=t, due_since=t)], ignore_conflicts=True
        )
        review = _locked(release_id)
    if review.due_since is None and review.status != ReviewStatus.PENDING:
        return review
    t = now()
    release = review.release
    subject = subject_build(release, t, review.reraised_at)
    known = {f["code"] for f in review.findings}
    added = [f.as_json(t) for f in findings_of(subject) if str(f.code) not in known]
    first = review.status == ReviewStatus.PENDING
    review.findings = [*review.findings, *added]
    review.codes = "".join(f",{f['code']}" for f in review.findings) + ("," if review.findings else "")
    review.status = ReviewStatus.FLAGGED if review.findings else ReviewStatus.CLEAN
    if first:
        review.reviewed_at = t
        review.reviewed_against = {
            "evidence_watermark": release.evidence_watermark,
            "evidence": [{"kind": kind, "id": pk} for kind, pk in subject.evidence],
            "policy_version": subject.policy.version_id,
            "at": local_iso(t),
        }
    else:
        review.rechecked_at = t
    if added:
        review.awaiting_decision = True
    review.due_since = None
    review.save(
        update_fields=[
            "findings",
            "codes",
            "status",
            "reviewed_at",
            "rechecked_at",
            "reviewed_against",
            "awaiting_decision",
            "due_since",
        ]
    )
    if first or added:
        audit_event_record(
            kind=AuditKind.RELEASE_REVIEWED,
            actor=None,
            person=release.person,
            detail={
                "release": str(release.pk),
                "review": str(review.pk),
                "status": review.status,
                "added": [f["code"] for f in added],
                "findings": review.finding_codes,
                "recheck": not first,
            },
            origin=Origin.TASK,
        )
    return review


# --- decisions ---------------------------------------------------------------------------------------


def _review_for(actor, release_id) -> ReleaseReview:
    pk = release_pk(release_id)
    review = (
        ReleaseReview.objects.visible_to(actor)
        .select_for_update(of=("self",))
        .select_related("release", "release__person")
        .filter(release_id=pk)
        .first()
    )
    if review is None:
        raise NotFoundInJurisdiction(_("No such release review."))
    return review


def _required_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Write the reason for this decision.")]})
    return reason


def _decision_record(*, actor, review: ReleaseReview, kind: str, reason: str) -> ReviewDecision:
    t = now()
    decision = ReviewDecision.objects.create(
        review=review,
        kind=kind,
        actor=actor,
        actor_org_id=getattr(actor, "organisation_id", None),
        reason=reason,
        codes=review.finding_codes,
        at=t,
    )
    audit_event_record(
        kind=DECISION_AUDIT[kind],
        actor=actor,
        person=review.release.person,
        reason=reason,
        detail={
            "release": str(review.release_id),
            "review": str(review.pk),
            "decision": str(decision.pk),
            "findings": review.finding_codes,
        },
    )
    return decision


@transaction.atomic
def review_decide(*, actor, release_id, kind: str, reason: str) -> ReviewDecision:
    """An auditor confirms a flagged release or refers it to the CDC, with a reason (SPEC §5). A
    referral opens a work item in the CDC's queue. A review is decided once per set of findings:
    deciding again answers 409 until a re-check adds a finding."""
    access.require(actor, "release_review.decide")
    if kind not in AUDITOR_DECISIONS:
        raise ValidationError({"kind": [_("Choose confirmed or referred.")]})
    reason = _required_reason(reason)
    review = _review_for(actor, release_id)
    if review.status != ReviewStatus.FLAGGED:
        raise Conflict(_("Only a flagged review is decided."), code="not_flagged")
    if not review.awaiting_decision:
        raise Conflict(_("This review is already decided."), code="decided")
    decision = _decision_record(actor=actor, review=review, kind=kind, reason=reason)
    review.awaiting_decision = False
    fields = ["awaiting_decision"]
    if kind == DecisionKind.REFERRED:
        review.referral_open = True
        fields.append("referral_open")
    review.save(update_fields=fields)
    return decision


@transaction.atomic
def review_referral_close(*, actor, release_id, reason: str) -> ReviewDecision:
    """A CDC officer closes a referred review once handled, saying what was done."""
    access.require(actor, "release_review.close")
    reason = _required_reason(reason)
    review = _review_for(actor, release_id)
    if not review.referral_open:
        raise Conflict(_("This review has no open referral."), code="no_referral")
    decision = _decision_record(actor=actor, review=review, kind=DecisionKind.CLOSED, reason=reason)
    review.referral_open = False
    review.save(update_fields=["referral_open"])
    return decision
