"""Each finding of the release review at its edges (SPEC §5; apps/reviews/checks.py)."""

import datetime as dt

import pytest
import time_machine

from apps.audit.models import AuditEvent
from apps.casework.services import itinerary_verify
from apps.people.models import Person
from apps.policy.models import PolicyVersion
from apps.reviews.models import ReleaseReview
from apps.reviews.selectors import finding_message
from apps.reviews.services import reviews_recheck
from apps.status.models import Popup
from tests.api.helpers import RISK_COUNTY, at, iso, rid, stay

from .conftest import IDN, RELEASED_AT, VERIFIED_AT, codes, lab


def test_a_release_with_everything_on_record_is_clean(case):
    [release] = case.release()
    review = case.review(release)
    assert (review.status, review.findings) == ("clean", [])
    assert review.reviewed_at == RELEASED_AT + dt.timedelta(seconds=1)
    assert review.reviewed_against["evidence_watermark"] == release.evidence_watermark
    assert {e["kind"] for e in review.reviewed_against["evidence"]} == {"stay", "designation"}
    assert not review.awaiting_decision
    event = AuditEvent.objects.get(kind="release.reviewed")
    assert (event.person_id, event.actor_id, event.origin) == (case.person.pk, None, "task")
    assert event.detail["status"] == "clean" and event.detail["release"] == str(release.pk)


# --- nat_not_on_record, nat_positive_on_record ---------------------------------------------------


def test_a_nat_sampled_at_the_very_departure_does_not_cover_it_one_a_minute_later_does(case):
    idn_at, idn_after = rid("11010519900101211"), rid("11010519900101220")
    departed = at(2021, 7, 22, 8)
    exactly = case.resident(idn_at, "GX", nat=departed)
    after = case.resident(idn_after, "GY", nat=departed + dt.timedelta(minutes=1))
    [r_exactly] = case.release(persons=[exactly])
    [r_after] = case.release(persons=[after])
    flagged = case.review(r_exactly)
    assert codes(flagged) == ["nat_not_on_record"]
    [finding] = flagged.findings
    assert finding["params"] == {"after": "2021-07-22 08:00"}
    assert finding["evidence"][0]["kind"] == "stay"
    assert "2021-07-22 08:00" in finding_message(finding)
    assert case.review(r_after).status == "clean"


def test_a_nat_learnt_after_the_release_or_sampled_after_it_is_not_on_record(case):
    late = case.resident(rid("11010519900101238"), "GZ", nat=None)
    [release] = case.release(persons=[late])
    with time_machine.travel(at(2021, 7, 28, 10, 5), tick=False):
        # A NAT sampled on the 23rd but learnt after the release, and one sampled after it.
        case.world.feed("lab-results", lab(rid("11010519900101238"), "LATE", at(2021, 7, 23, 9)))
        case.world.feed("lab-results", lab(rid("11010519900101238"), "AFTER", at(2021, 7, 28, 10, 1)))
    assert codes(case.review(release, at(2021, 7, 28, 10, 6))) == ["nat_not_on_record"]


def test_a_positive_nat_after_the_evidence_on_record_is_a_finding(case):
    with time_machine.travel(at(2021, 7, 28, 9, 40), tick=False):
        case.world.feed("lab-results", lab(IDN, "POS", at(2021, 7, 24, 8), result="positive"))
    [release] = case.release()
    review = case.review(release)
    assert codes(review) == ["nat_positive_on_record"]
    assert review.findings[0]["evidence"][0]["kind"] == "lab_result"


# --- no_itinerary_verification -------------------------------------------------------------------


def test_no_itinerary_verification_in_the_look_back_window_is_a_finding(case):
    unverified = case.resident(rid("11010519900101246"), "GV", verify=False)
    [release] = case.release(persons=[unverified])
    review = case.review(release)
    assert codes(review) == ["no_itinerary_verification"]
    assert review.findings[0]["params"] == {"days": 14}


def test_a_verification_at_the_edge_of_the_window_counts_one_a_second_older_does_not(case):
    from apps.casework.services import itinerary_verify

    old = case.resident(rid("11010519900101254"), "GO", verify=False)
    edge = case.resident(rid("11010519900101262"), "GE", verify=False)
    with time_machine.travel(RELEASED_AT - dt.timedelta(days=14), tick=False):
        itinerary_verify(actor=case.worker, person=edge, note="上门核实")
    with time_machine.travel(RELEASED_AT - dt.timedelta(days=14, seconds=1), tick=False):
        itinerary_verify(actor=case.worker, person=old, note="上门核实")
    [r_edge] = case.release(persons=[edge])
    [r_old] = case.release(persons=[old])
    assert case.review(r_edge).status == "clean"
    assert codes(case.review(r_old)) == ["no_itinerary_verification"]


# --- no_commitment_file ------------------------------------------------------------------------------


def test_the_commitment_letter_ticked_without_a_file_is_a_finding(case):
    [release] = case.release(files=False)
    review = case.review(release)
    assert codes(review) == ["no_commitment_file"]
    assert review.findings[0]["evidence"] == [{"kind": "release", "id": str(release.pk)}]


# --- high_risk_now -----------------------------------------------------------------------------------


def test_a_county_high_risk_at_the_review_is_a_finding_medium_is_not(case):
    [release] = case.release()
    with time_machine.travel(at(2021, 7, 28, 9), tick=False):
        case.world.designate(RISK_COUNTY, "high", iso(2021, 7, 28, 12))
    assert case.review(release, at(2021, 7, 28, 11, 59, 59)).status == "clean"  # still medium then


def test_a_county_raised_to_high_before_the_review_is_named(case):
    [release] = case.release()
    with time_machine.travel(at(2021, 7, 28, 9), tick=False):
        designation = case.world.designate(RISK_COUNTY, "high", iso(2021, 7, 28, 10))
    review = case.review(release, at(2021, 7, 28, 10, 0, 1))
    assert codes(review) == ["high_risk_now"]
    [finding] = review.findings
    assert RISK_COUNTY in finding["params"]["counties"]
    assert {"kind": "designation", "id": str(designation["id"])} in finding["evidence"]
    assert any(e["kind"] == "stay" for e in finding["evidence"])


def test_a_city_stay_is_judged_by_the_county_its_designation_names(case):
    """A city-precision stay names no county: the county is the released designation's."""
    from tests.api.helpers import RISK_CITY

    idn = rid("11010519900101289")
    with time_machine.travel(at(2021, 7, 28, 8), tick=False):
        ref = case.world.person(idn, community="CA")
        case.world.feed(
            "stays", stay(idn, "CITY1", RISK_CITY, iso(2021, 7, 21, 8), iso(2021, 7, 21, 20), precision="city")
        )
        case.world.feed("lab-results", lab(idn, "CITY-NAT", at(2021, 7, 23, 8)))
        assert [p["number"] for p in case.world.status(idn)["popups"]] == [3]
    person = Person.objects.get(ref=ref)
    with time_machine.travel(VERIFIED_AT, tick=False):
        itinerary_verify(actor=case.worker, person=person, note="电话核实行程")
    [release] = case.release(persons=[person])
    with time_machine.travel(at(2021, 7, 28, 9), tick=False):
        high = case.world.designate(RISK_COUNTY, "high", iso(2021, 7, 28, 10, 30))
    review = case.review(release, at(2021, 7, 28, 10, 30))
    assert codes(review) == ["high_risk_now"]
    [finding] = review.findings
    assert finding["evidence"] == [{"kind": "designation", "id": str(high["id"])}]
    assert RISK_COUNTY in finding["params"]["counties"]


# --- burst ----------------------------------------------------------------------------------------


@pytest.fixture
def three_more(case):
    """Three more residents like the first, and a policy allowing two persons an hour."""
    PolicyVersion.objects.create(effective_from=at(2021, 7, 1), review_burst_per_hour=2)
    return [case.resident(rid(f"1101051990010230{n}"), f"GB{n}") for n in range(3)]


def test_as_many_persons_an_hour_as_the_policy_allows_is_no_burst_one_more_is(case, three_more):
    a, b, c = three_more
    [r1] = case.release(at(2021, 7, 28, 10), persons=[a])
    [r2] = case.release(at(2021, 7, 28, 10, 30), persons=[b])
    [r3] = case.release(at(2021, 7, 28, 10, 59, 59), persons=[c])
    assert case.review(r2).status == "clean"  # two persons in the hour up to it: the limit
    review = case.review(r3)
    assert codes(review) == ["burst"]
    assert review.findings[0]["params"] == {"actor": "worker_a", "count": 3, "limit": 2}
    assert {e["id"] for e in review.findings[0]["evidence"]} == {str(r1.pk), str(r2.pk), str(r3.pk)}
    assert case.review(r1).status == "clean"


def test_a_release_exactly_an_hour_before_is_outside_the_window(case, three_more):
    a, b, c = three_more
    case.release(at(2021, 7, 28, 10), persons=[a])
    case.release(at(2021, 7, 28, 10, 30), persons=[b])
    [r3] = case.release(at(2021, 7, 28, 11), persons=[c])
    assert case.review(r3).status == "clean"


def test_a_bulk_release_over_the_limit_flags_each_of_its_reviews(case, three_more):
    releases = case.release(persons=three_more)
    assert len(releases) == 3
    assert [codes(case.review(r)) for r in releases] == [["burst"]] * 3


# --- outside_hours -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hour", "minute", "outside"),
    [(7, 59, True), (8, 0, False), (19, 59, False), (20, 0, True), (23, 30, True)],
)
def test_working_hours_are_eight_to_eight_beijing_time(case, hour, minute, outside):
    [release] = case.release(at(2021, 7, 28, hour, minute))
    review = case.review(release)
    assert codes(review) == (["outside_hours"] if outside else [])
    if outside:
        assert review.findings[0]["params"] == {"time": f"{hour:02d}:{minute:02d}", "start": "08", "end": "20"}


def test_the_working_hours_come_from_the_policy_in_force_at_the_release(case):
    PolicyVersion.objects.create(effective_from=at(2021, 7, 1), working_hours_start=9, working_hours_end=18)
    [release] = case.release(at(2021, 7, 28, 8, 30))
    review = case.review(release)
    assert codes(review) == ["outside_hours"]
    assert review.findings[0]["params"]["start"] == "09"


# --- reraised_soon -------------------------------------------------------------------------------------


def came_back(case, when, capture):
    """New evidence after the release (another stay in the county): the popup comes back when the
    status is next computed, which calls the review's door inside the recomputation's transaction;
    what was enqueued on its commit runs (eagerly) at `when`. Returns the callbacks captured."""
    with time_machine.travel(when, tick=False), capture(execute=True) as callbacks:
        day = when - dt.timedelta(days=1)
        case.world.feed(
            "stays",
            stay(IDN, f"NEW{when:%d%H%M%S}", RISK_COUNTY, day.isoformat(), (day + dt.timedelta(hours=2)).isoformat()),
        )
        assert case.world.status(IDN)["state"] == "popup"
    return callbacks


@pytest.mark.parametrize(
    ("after", "flagged"),
    [(dt.timedelta(hours=1), True), (dt.timedelta(hours=72), True), (dt.timedelta(hours=72, seconds=1), False)],
)
def test_a_popup_back_within_the_policy_window_is_a_finding(case, after, flagged, django_capture_on_commit_callbacks):
    [release] = case.release()
    first = case.review(release)
    assert first.status == "clean"
    callbacks = came_back(case, RELEASED_AT + after, django_capture_on_commit_callbacks)
    assert callbacks, "the re-check is enqueued once the recomputation commits"
    review = ReleaseReview.objects.get(pk=first.pk)
    assert review.reraised_at == RELEASED_AT + after
    assert review.due_since is None, "the re-check ran (eagerly here)"
    if flagged:
        assert codes(review) == ["reraised_soon"]
        [finding] = review.findings
        episode = Popup.objects.get(person=case.person, number=3, ended_at__isnull=True)
        assert finding["evidence"] == [{"kind": "popup", "id": str(episode.pk)}]
        assert finding["params"]["limit"] == 72
        assert review.awaiting_decision and review.rechecked_at == RELEASED_AT + after
    else:
        assert review.status == "clean" and review.rechecked_at == RELEASED_AT + after
    kinds = list(
        AuditEvent.objects.filter(kind="release.reviewed")
        .order_by("at", "id")
        .values_list("detail__recheck", flat=True)
    )
    assert kinds == ([False, True] if flagged else [False])


def test_only_the_first_return_of_the_popup_is_noted(case, django_capture_on_commit_callbacks):
    [release] = case.release()
    case.review(release)
    came_back(case, RELEASED_AT + dt.timedelta(hours=2), django_capture_on_commit_callbacks)
    review = ReleaseReview.objects.get(pk=release.pk)
    assert review.reraised_at == RELEASED_AT + dt.timedelta(hours=2)
    assert reviews_recheck(release_ids=[release.pk], at=RELEASED_AT + dt.timedelta(hours=5)) == []
    assert ReleaseReview.objects.get(pk=release.pk).reraised_at == RELEASED_AT + dt.timedelta(hours=2)
