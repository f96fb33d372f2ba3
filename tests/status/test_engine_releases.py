"""Releases (SPEC §5): a release covers the evidence ingested up to its watermark; evidence ingested
later raises the popup again, and the reason names the release and the new evidence."""

from apps.status.engine.evaluate import evaluate
from tests.status.engine_builders import (
    DAY,
    HOUR,
    OTHER_COUNTY,
    RISK_COUNTY,
    US,
    association,
    at,
    designation,
    facts,
    is_green,
    popup,
    popup_numbers,
    reasons_for,
    release,
    stay,
)

NOW = at(2022, 9, 10, 12)
RELEASED_AT = NOW - 3 * HOUR
WATERMARK = 10
RELEASE_ID = 77


def known():
    """Popup ③(a) evidence, all ingested up to the watermark."""
    return [
        designation(RISK_COUNTY, "medium", NOW - 10 * DAY, id=501, ingestion_id=5),
        stay(RISK_COUNTY, NOW - 5 * DAY, NOW - 4 * DAY, id=601, ingestion_id=WATERMARK),
    ]


def released(watermark=WATERMARK, created_at=RELEASED_AT, popup_number=3):
    return release(watermark, created_at, popup_number, id=RELEASE_ID)


def test_it_holds_back_popup_3_when_all_its_evidence_was_ingested_up_to_the_watermark():
    result = evaluate(facts(*known(), released()), NOW)

    assert is_green(result)
    assert result.released == (3,)


def test_it_raises_popup_3_again_when_one_piece_of_evidence_came_after_the_watermark():
    result = evaluate(facts(*known(), released(watermark=WATERMARK - 1)), NOW)

    assert popup_numbers(result) == [3]
    [reason] = reasons_for(result, "popup3.risk_county_stay")
    assert reason.after_release == RELEASE_ID
    assert result.released == ()


def test_a_new_stay_in_another_risk_county_after_the_release_raises_popup_3_naming_release_and_stay():
    new = stay(OTHER_COUNTY, NOW - 2 * DAY, NOW - DAY, id=700, ingestion_id=WATERMARK + 1)
    result = evaluate(
        facts(*known(), designation(OTHER_COUNTY, "high", NOW - 10 * DAY, id=502, ingestion_id=3), released(), new),
        NOW,
    )

    assert result.state == "popup"
    assert popup_numbers(result) == [3]
    [reason] = [r for r in result.reasons if r.popup == 3]
    assert reason.after_release == RELEASE_ID
    assert {(e.kind, e.id) for e in reason.evidence} >= {("stay", 700)}
    assert "#77" in str(reason.summary)
    assert "stay #700" in str(reason.summary)
    assert "stay #601" not in str(reason.summary)
    assert reason.as_json()["after_release"] == "77"


def test_a_raised_popup_is_dated_no_earlier_than_the_release():
    new = stay(OTHER_COUNTY, NOW - 2 * DAY, NOW - DAY, ingestion_id=WATERMARK + 1)
    result = evaluate(facts(*known(), designation(OTHER_COUNTY, "high", NOW - 10 * DAY), released(), new), NOW)

    assert popup(result, 3).since >= RELEASED_AT


def test_a_new_association_after_the_release_raises_popup_3():
    new = association(NOW - HOUR, id=800, ingestion_id=WATERMARK + 5)
    result = evaluate(facts(*known(), released(), new), NOW)

    [reason] = [r for r in result.reasons if r.popup == 3]
    assert reason.rule == "popup3.association"
    assert reason.after_release == RELEASE_ID
    assert "association #800" in str(reason.summary)


def test_evidence_ingested_before_the_release_but_with_a_lower_id_stays_covered():
    old = association(NOW - 6 * DAY, id=9000, ingestion_id=WATERMARK - 2)

    assert is_green(evaluate(facts(*known(), released(), old), NOW))


def test_a_release_created_after_t_is_ignored():
    f = facts(*known(), released())
    before = evaluate(f, RELEASED_AT - US)

    assert popup_numbers(before) == [3]
    assert all(r.after_release is None for r in before.reasons)
    assert before.released == ()
    assert is_green(evaluate(f, RELEASED_AT))


def test_a_release_of_another_popup_does_not_hold_back_popup_3():
    result = evaluate(facts(*known(), released(popup_number=1)), NOW)

    assert popup_numbers(result) == [3]
    assert all(r.after_release is None for r in result.reasons)


def test_the_latest_release_covers_evidence_that_an_earlier_release_did_not():
    new = association(NOW - 2 * DAY, ingestion_id=WATERMARK + 1)
    f = facts(*known(), new, released(), release(WATERMARK + 1, NOW - HOUR, id=78))

    assert is_green(evaluate(f, NOW))
    assert popup_numbers(evaluate(f, NOW - HOUR - US)) == [3]


def test_a_release_of_popup_3_does_not_end_yellow_for_a_person_still_in_the_risky_county():
    f = facts(
        designation(RISK_COUNTY, "high", NOW - 10 * DAY, ingestion_id=5),
        stay(RISK_COUNTY, NOW - 5 * DAY, ingestion_id=WATERMARK),
        released(),
    )
    result = evaluate(f, NOW)

    assert result.state == "yellow"
    assert result.popups == ()
    assert result.released == (3,)
