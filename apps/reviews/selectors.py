"""Reads of release reviews: one review as API.md shows it, the auditors' queue, and the referred
reviews the CDC's work queue lists. Auditors and CDC officers see every review (the access layer:
`ReleaseReview.objects.visible_to`)."""

from django.db.models import Max, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from apps.accounts import access
from apps.casework.selectors import QueueItem
from apps.core.clock import local_iso
from apps.core.errors import NotFoundInJurisdiction

from .choices import AUDITOR_DECISIONS, FINDING_MESSAGES, DecisionKind, FindingCode, ReviewStatus
from .models import ReleaseReview, ReviewDecision


def finding_message(finding: dict) -> str:
    """The finding's message in the active language, from its code and parameters."""
    template = FINDING_MESSAGES.get(finding.get("code"))
    if template is None:
        return str(finding.get("code", ""))
    try:
        return str(template) % finding.get("params", {})
    except (KeyError, TypeError, ValueError):
        return str(template)


def finding_json(finding: dict) -> dict:
    return {
        "code": finding["code"],
        "message": finding_message(finding),
        "evidence": finding.get("evidence", []),
        "params": finding.get("params", {}),
        "found_at": finding.get("found_at"),
    }


def _decision_json(decision: ReviewDecision | None) -> dict | None:
    if decision is None:
        return None
    return {
        "kind": decision.kind,
        "by": decision.actor.get_username(),
        "at": local_iso(decision.at),
        "reason": decision.reason,
        "findings": decision.codes,
    }


def decisions_of(review: ReleaseReview) -> tuple[ReviewDecision | None, ReviewDecision | None]:
    """The latest auditor's decision and the latest closing of a referral (prefetched or read)."""
    decisions = list(review.decisions.all())
    auditor = [d for d in decisions if d.kind in AUDITOR_DECISIONS]
    closed = [d for d in decisions if d.kind == DecisionKind.CLOSED]
    return (auditor[-1] if auditor else None), (closed[-1] if closed else None)


def review_json(review: ReleaseReview) -> dict:
    """API.md `GET /api/v1/releases/{id}/review/`, and what the queue lists for each review."""
    release = review.release
    decision, closed = decisions_of(review)
    return {
        "release": str(review.release_id),
        "status": review.status,
        "reviewed_at": local_iso(review.reviewed_at) if review.reviewed_at else None,
        "rechecked_at": local_iso(review.rechecked_at) if review.rechecked_at else None,
        "findings": [finding_json(f) for f in review.findings],
        "decision": _decision_json(decision),
        "awaiting_decision": review.awaiting_decision,
        "referral_open": review.referral_open,
        "referral_closed": _decision_json(closed),
        "person": release.person.ref,
        "popup_number": release.popup_number,
        "released_by": release.actor.get_username(),
        "released_at": local_iso(release.created_at),
    }


def _reviews(user) -> QuerySet:
    return (
        ReleaseReview.objects.visible_to(user)
        .select_related("release", "release__person", "release__actor")
        .prefetch_related(Prefetch("decisions", ReviewDecision.objects.select_related("actor").order_by("at", "pk")))
    )


MAX_ID = 2**63 - 1  # a bigint: an id past it is no row's (and overflows SQLite's driver)


def release_pk(value) -> int:
    """A release id from a path or a form, or 404: not a number, or no id a row can have."""
    try:
        pk = int(str(value).strip())
    except (TypeError, ValueError):
        raise NotFoundInJurisdiction(_("No such release review.")) from None
    if not 0 < pk <= MAX_ID:
        raise NotFoundInJurisdiction(_("No such release review."))
    return pk


def review_get(user, release_id) -> ReleaseReview:
    """The review of one release, 404 when there is none the user may see."""
    access.require(user, "release_review.view")
    review = _reviews(user).filter(release_id=release_pk(release_id)).first()
    if review is None:
        raise NotFoundInJurisdiction(_("No such release review."))
    return review


def reviews_list(user, *, status: str = "", code: str = "", actor: str = "", awaiting: bool | None = None) -> QuerySet:
    """The auditors' review queue, oldest release first, narrowed by status, finding code, the
    releasing user's name, and whether it awaits a decision."""
    access.require(user, "release_review.decide")
    queryset = _reviews(user)
    if status in ReviewStatus.values:
        queryset = queryset.filter(status=status)
    if code in FindingCode.values:
        queryset = queryset.filter(codes__contains=f",{code},")
    if actor:
        queryset = queryset.filter(release__actor__username=actor)
    if awaiting is not None:
        queryset = queryset.filter(awaiting_decision=awaiting)
    return queryset.order_by("created_at", "pk")


def referred_queue_items(*, user, limit: int):
    """The door `reviews_referred_queue`: the referred reviews still open at the CDC as items of
    the work queue (`apps.casework.selectors.QueueItem`, kind "review", its id the release's), oldest
    referral first, and
    how many there are. Nothing (and no query) for a user who may not close referrals."""
    if not access.may(user, "release_review.close"):
        return [], 0
    referred = ReleaseReview.objects.visible_to(user).filter(referral_open=True)
    rows = (
        referred.annotate(referred_at=Max("decisions__at", filter=Q(decisions__kind=DecisionKind.REFERRED)))
        .order_by("referred_at", "pk")
        .values_list(
            "release_id",
            "release__person_id",
            "release__person__ref",
            "release__person__display_name",
            "release__person__display_id",
            "referred_at",
        )[:limit]
    )
    items = [
        QueueItem("review", release_id, pid, ref, name, shown, since, label=f"#{release_id}")
        for release_id, pid, ref, name, shown, since in rows
    ]
    return items, referred.count()
