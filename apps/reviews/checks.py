"""The checks of a release review (SPEC §5), one function per finding code, in `CHECKS`.

Each check reads the record as it stood at the release — the evidence the release covered (its
`status_before`: the reasons of the released popup), what was ingested up to its watermark, the
policy in force when it was made — except `high_risk_now`, which asks about the moment of the
review, and `reraised_soon`, which asks what happened after. A check returns a `Finding` or None;
none of them writes anything.
"""

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Count, Exists, Q, Subquery

from apps.areas.models import Area
from apps.casework.models import ItineraryVerification
from apps.core.clock import LOCAL_TZ, local_iso
from apps.evidence.choices import EvidenceOrigin, LabResultValue
from apps.evidence.models import Association, HealthEvent, InboundArrival, ItineraryDeclaration, LabResult, Stay
from apps.policy.choices import RiskLevel
from apps.policy.models import BorderPortCounty, LocalCaseReport, RiskDesignation
from apps.policy.selectors import Policy, policy_at
from apps.status.models import Popup, Release, ReleaseAttachment

from .choices import FindingCode

BURST_WINDOW = dt.timedelta(hours=1)
BURST_EVIDENCE_MAX = 20  # release ids named by a burst finding (the count says how many there were)


@dataclass(frozen=True)
class Finding:
    code: str
    params: dict = field(default_factory=dict)
    evidence: tuple[tuple[str, str], ...] = ()

    def as_json(self, found_at: dt.datetime) -> dict:
        return {
            "code": str(self.code),
            "params": self.params,
            "evidence": [{"kind": kind, "id": str(pk)} for kind, pk in self.evidence],
            "found_at": local_iso(found_at),
        }


@dataclass
class Subject:
    """What every check reads: the release, the policy at the release, the moment of the review,
    the evidence the release covered, and when the released popup came back (if it did)."""

    release: Release
    policy: Policy
    t: dt.datetime
    evidence: list[tuple[str, str]]
    reraised_at: dt.datetime | None = None

    def ids(self, kind: str) -> list[int]:
        return [int(pk) for k, pk in self.evidence if k == kind and str(pk).isdigit()]

    @functools.cached_property
    def record(self) -> dict:
        """What the itinerary, letter and burst checks ask of the record, in one query: a
        verification (or a declaration staff recorded) in the look-back window up to the release,
        a file attached, and how many persons the actor released in the hour up to it."""
        r = self.release
        start = r.created_at - self.policy.lookback
        window = Release.objects.filter(
            actor_id=r.actor_id, created_at__gt=r.created_at - BURST_WINDOW, created_at__lte=r.created_at
        )
        return (
            Release.objects.filter(pk=r.pk)
            .annotate(
                verified=Exists(
                    ItineraryVerification.objects.filter(
                        person_id=r.person_id, verified_at__gte=start, verified_at__lte=r.created_at
                    )
                ),
                declared=Exists(
                    ItineraryDeclaration.objects.filter(
                        person_id=r.person_id,
                        origin=EvidenceOrigin.STAFF,
                        submitted_at__gte=start,
                        submitted_at__lte=r.created_at,
                    )
                ),
                attached=Exists(ReleaseAttachment.objects.filter(release_id=r.pk)),
                burst_persons=Subquery(
                    window.order_by().values("actor_id").annotate(n=Count("person_id", distinct=True)).values("n")[:1]
                ),
            )
            .values("verified", "declared", "attached", "burst_persons")
            .get()
        )

    @functools.cached_property
    def stays(self) -> list[tuple[int, str, str, dt.datetime, dt.datetime | None]]:
        """The released stays: (id, area, precision, arrived, departed)."""
        return list(
            Stay.objects.filter(pk__in=self.ids("stay")).values_list(
                "pk", "area_id", "precision", "arrived_at", "departed_at"
            )
        )

    @functools.cached_property
    def exposure(self) -> tuple[dt.datetime, tuple[str, str] | None]:
        return exposure(self)

    @functools.cached_property
    def nats(self) -> list[tuple[int, str, dt.datetime]]:
        """The person's NATs sampled after the exposure and by the release, known at the release
        (ingested up to its watermark), oldest first: (id, result, sampled at)."""
        after, _item = self.exposure
        return list(
            LabResult.objects.filter(
                person_id=self.release.person_id,
                sampled_at__gt=after,
                sampled_at__lte=self.release.created_at,
                ingestion_id__lte=self.release.evidence_watermark,
            )
            .order_by("sampled_at", "pk")
            .values_list("pk", "result", "sampled_at")
        )


def subject_build(release: Release, t: dt.datetime, reraised_at: dt.datetime | None = None) -> Subject:
    seen, evidence = set(), []
    for reason in (release.status_before or {}).get("reasons", []):
        if reason.get("popup") != release.popup_number:
            continue
        for item in reason.get("evidence", []):
            key = (item.get("kind", ""), str(item.get("id", "")))
            if key not in seen:
                seen.add(key)
                evidence.append(key)
    return Subject(
        release=release, policy=policy_at(release.created_at), t=t, evidence=evidence, reraised_at=reraised_at
    )


def local(moment: dt.datetime) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


def self_evidence(s: Subject) -> tuple[tuple[str, str], ...]:
    return (("release", str(s.release.pk)),)


# --- the NAT ----------------------------------------------------------------------------------------


def exposure(s: Subject) -> tuple[dt.datetime, tuple[str, str] | None]:
    """The latest moment of the person's own released evidence (a stay's departure, or its arrival
    when still there; an entry; a health event; an association) and which one it is. Without any,
    the start of the look-back window before the release."""
    moments = []
    for pk, _area, _precision, arrived, departed in s.stays:
        moments.append((departed or arrived, ("stay", str(pk))))
    for model, kind, attr in (
        (InboundArrival, "inbound_arrival", "entered_at"),
        (HealthEvent, "health_event", "occurred_at"),
        (Association, "association", "observed_at"),
    ):
        for pk, moment in model.objects.filter(pk__in=s.ids(kind)).values_list("pk", attr):
            moments.append((moment, (kind, str(pk))))
    if not moments:
        return s.release.created_at - s.policy.lookback, None
    return max(moments)


def nat_not_on_record(s: Subject) -> Finding | None:
    """The box says a negative NAT was seen; the record must hold one sampled after the released
    evidence (strictly after: a sample at the very moment of the exposure does not cover it)."""
    if not s.release.nat_negative:
        return None
    after, item = s.exposure
    if any(result == LabResultValue.NEGATIVE for _pk, result, _at in s.nats):
        return None
    return Finding(FindingCode.NAT_NOT_ON_RECORD, {"after": local(after)}, (item,) if item else self_evidence(s))


def nat_positive_on_record(s: Subject) -> Finding | None:
    """A positive NAT sampled after the released evidence was on record when the release was made."""
    positive = next(((pk, at) for pk, result, at in s.nats if result == LabResultValue.POSITIVE), None)
    if positive is None:
        return None
    return Finding(
        FindingCode.NAT_POSITIVE_ON_RECORD, {"sampled_at": local(positive[1])}, (("lab_result", str(positive[0])),)
    )


# --- the itinerary, the commitment letter -----------------------------------------------------------


def no_itinerary_verification(s: Subject) -> Finding | None:
    """An itinerary verification (a community worker's, or a declaration staff recorded on the
    person's behalf: the hotline on the call) within the look-back window up to the release."""
    if s.record["verified"] or s.record["declared"]:
        return None
    return Finding(FindingCode.NO_ITINERARY_VERIFICATION, {"days": s.policy.lookback_days}, self_evidence(s))


def no_commitment_file(s: Subject) -> Finding | None:
    if not s.release.commitment_signed or s.record["attached"]:
        return None
    return Finding(FindingCode.NO_COMMITMENT_FILE, {}, self_evidence(s))


# --- the counties now ------------------------------------------------------------------------------


def high_risk_now(s: Subject) -> Finding | None:
    """A county the released evidence names (a county-precision stay's; a designation's, local
    case report's or border port's) whose designation in force at the review is high (the latest
    `effective_from` at or before it, ties: published last, as the engine reads them). One query
    for every county, the evidence's areas read inside it."""
    stays: dict[str, list[tuple[str, str]]] = {}
    for pk, area, precision, _arrived, _departed in s.stays:
        if precision == "county":
            stays.setdefault(area, []).append(("stay", str(pk)))
    named = Q(area_id__in=list(stays))
    for model, kind in (
        (RiskDesignation, "designation"),
        (LocalCaseReport, "local_case"),
        (BorderPortCounty, "border_port"),
    ):
        if s.ids(kind):
            named |= Q(area_id__in=model.objects.filter(pk__in=s.ids(kind)).values("area_id"))
    if not stays and not any(s.ids(k) for k in ("designation", "local_case", "border_port")):
        return None
    in_force = {}
    for pk, area, level in (
        RiskDesignation.objects.filter(named, effective_from__lte=s.t)
        .order_by("area_id", "effective_from", "pk")
        .values_list("pk", "area_id", "level")
    ):
        in_force[area] = (pk, level)  # the last one per county wins
    high = sorted(code for code, (_pk, level) in in_force.items() if level == RiskLevel.HIGH)
    if not high:
        return None
    names = dict(Area.objects.filter(code__in=high).values_list("code", "name"))
    evidence = [e for code in high for e in stays.get(code, [])]
    evidence += [("designation", str(in_force[code][0])) for code in high]
    return Finding(
        FindingCode.HIGH_RISK_NOW,
        {"counties": "、".join(f"{names.get(code, '')}（{code}）" for code in high)},
        tuple(dict.fromkeys(evidence)),
    )


# --- the actor and the hour ------------------------------------------------------------------------


def burst(s: Subject) -> Finding | None:
    """More persons than `review_burst_per_hour` released by the actor in the hour up to this
    release (a release exactly an hour before is outside it; a bulk release counts every person)."""
    r = s.release
    window = Release.objects.filter(
        actor_id=r.actor_id, created_at__gt=r.created_at - BURST_WINDOW, created_at__lte=r.created_at
    )
    persons = s.record["burst_persons"] or 0
    limit = s.policy.review_burst_per_hour
    if persons <= limit:
        return None
    others = window.exclude(pk=r.pk).order_by("-created_at", "-pk").values_list("pk", flat=True)[:BURST_EVIDENCE_MAX]
    return Finding(
        FindingCode.BURST,
        {"actor": r.actor.get_username(), "count": persons, "limit": limit},
        (("release", str(r.pk)), *(("release", str(pk)) for pk in others)),
    )


def is_working_time(moment: dt.datetime, start_hour: int, end_hour: int) -> bool:
    """Local (Beijing) time in [start, end); a window past midnight when start > end; no limit
    when they are equal."""
    hour = moment.astimezone(LOCAL_TZ)
    minutes = hour.hour * 60 + hour.minute + hour.second / 60
    start, end = start_hour * 60, end_hour * 60
    if start == end:
        return True
    if start < end:
        return start <= minutes < end
    return minutes >= start or minutes < end


def outside_hours(s: Subject) -> Finding | None:
    p = s.policy
    if is_working_time(s.release.created_at, p.working_hours_start, p.working_hours_end):
        return None
    return Finding(
        FindingCode.OUTSIDE_HOURS,
        {
            "time": s.release.created_at.astimezone(LOCAL_TZ).strftime("%H:%M"),
            "start": f"{p.working_hours_start:02d}",
            "end": f"{p.working_hours_end:02d}",
        },
        self_evidence(s),
    )


# --- afterwards ------------------------------------------------------------------------------------


def reraised_soon(s: Subject) -> Finding | None:
    """The released popup came back (the engine raised a new episode after the release) within
    `reraised_within_hours` of the release, the window's end included."""
    r = s.release
    if s.reraised_at is None:
        return None
    limit = s.policy.reraised_within_hours
    after = s.reraised_at - r.created_at
    if after > dt.timedelta(hours=limit):
        return None
    episode = (
        Popup.objects.filter(person_id=r.person_id, number=r.popup_number, since__gte=r.created_at)
        .exclude(release_id=r.pk)
        .order_by("since", "pk")
        .values_list("pk", flat=True)
        .first()
    )
    evidence = (("popup", str(episode)),) if episode else self_evidence(s)
    return Finding(
        FindingCode.RERAISED_SOON,
        {"since": local(s.reraised_at), "hours": f"{after.total_seconds() / 3600:.1f}", "limit": limit},
        evidence,
    )


CHECKS: tuple[Callable[[Subject], Finding | None], ...] = (
    nat_not_on_record,
    nat_positive_on_record,
    no_itinerary_verification,
    no_commitment_file,
    high_risk_now,
    burst,
    outside_hours,
    reraised_soon,
)


def findings_of(s: Subject) -> list[Finding]:
    return [f for f in (check(s) for check in CHECKS) if f is not None]
