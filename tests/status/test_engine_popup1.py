"""Popup ① — a stay in the window in a county with a local case reported on a date later than
date(t) − `local_case_clear_days` (SPEC §2 ①)."""

import datetime as dt

from apps.policy.selectors import Policy
from apps.status.engine.evaluate import evaluate
from tests.status.engine_builders import (
    DAY,
    OTHER_COUNTY,
    RISK_CITY,
    RISK_COUNTY,
    US,
    at,
    designation,
    evidence_of,
    facts,
    is_green,
    local_case,
    phone,
    popup,
    popup_numbers,
    reasons_for,
    stay,
    telecom_stay,
)

R = dt.date(2022, 6, 10)
CLEARED = at(2022, 6, 24)  # 00:00 on R + 14
RULE = "popup1.local_case_county"


ARRIVED = at(2022, 6, 8)
DEPARTED = at(2022, 6, 12, 10)


def trip(area=OTHER_COUNTY, arrived=ARRIVED, departed=DEPARTED):
    """By default in the window until 2022-06-26 10:00, after the popup's own end."""
    return stay(area, arrived, departed)


def test_it_fires_popup_1_on_the_report_date_and_names_the_stay_and_the_case():
    visit, case = trip(), local_case(OTHER_COUNTY, R)
    result = evaluate(facts(visit, case), at(2022, 6, 10, 8))

    assert result.state == "popup"
    assert popup_numbers(result) == [1]
    assert popup(result, 1).clears == "auto"
    [reason] = reasons_for(result, RULE)
    assert evidence_of(reason) == {("stay", visit.id), ("local_case", case.id)}


def test_it_keeps_popup_1_in_the_last_microsecond_before_r_plus_14():
    result = evaluate(facts(trip(), local_case(OTHER_COUNTY, R)), CLEARED - US)

    assert popup_numbers(result) == [1]
    assert popup(result, 1).clears_at == CLEARED


def test_it_clears_popup_1_at_midnight_on_r_plus_14_exactly():
    assert is_green(evaluate(facts(trip(), local_case(OTHER_COUNTY, R)), CLEARED))


def test_it_reckons_the_date_in_local_time_not_utc():
    f = facts(trip(), local_case(OTHER_COUNTY, R))

    # 16:00 UTC on the 23rd is already 00:00 on the 24th in Beijing.
    assert is_green(evaluate(f, dt.datetime(2022, 6, 23, 16, 0, tzinfo=dt.UTC)))
    assert popup_numbers(evaluate(f, dt.datetime(2022, 6, 23, 15, 59, tzinfo=dt.UTC))) == [1]


def test_it_reports_midnight_on_r_plus_14_as_the_next_change():
    result = evaluate(facts(trip(), local_case(OTHER_COUNTY, R)), at(2022, 6, 23, 9))

    assert result.next_change_at == CLEARED
    assert result.valid_until == CLEARED


def test_it_counts_from_the_latest_report():
    f = facts(trip(), local_case(OTHER_COUNTY, R), local_case(OTHER_COUNTY, R + 3 * DAY))

    assert popup(evaluate(f, CLEARED), 1).clears_at == at(2022, 6, 26, 10) + US  # the stay leaves the window first
    assert popup_numbers(evaluate(f, CLEARED)) == [1]


def test_it_clears_at_r_plus_14_of_the_latest_report_while_the_stay_is_still_in_the_window():
    visit = trip(departed=at(2022, 6, 20))
    f = facts(visit, local_case(OTHER_COUNTY, R), local_case(OTHER_COUNTY, R + 3 * DAY))

    assert popup_numbers(evaluate(f, at(2022, 6, 27) - US)) == [1]
    assert is_green(evaluate(f, at(2022, 6, 27)))


def test_a_low_designation_effective_on_a_later_date_than_the_report_clears_it():
    effective = at(2022, 6, 11, 15)
    f = facts(trip(), local_case(OTHER_COUNTY, R), designation(OTHER_COUNTY, "low", effective))

    assert popup_numbers(evaluate(f, effective - US)) == [1]
    assert is_green(evaluate(f, effective))
    assert evaluate(f, at(2022, 6, 11, 9)).next_change_at == effective


def test_a_low_designation_effective_on_the_report_date_does_not_clear_it():
    f = facts(trip(), local_case(OTHER_COUNTY, R), designation(OTHER_COUNTY, "low", at(2022, 6, 10, 20)))

    assert popup_numbers(evaluate(f, at(2022, 6, 12))) == [1]


def test_a_low_designation_before_the_report_does_not_clear_it():
    f = facts(trip(), local_case(OTHER_COUNTY, R), designation(OTHER_COUNTY, "low", at(2022, 6, 1)))

    assert popup_numbers(evaluate(f, at(2022, 6, 12))) == [1]


def test_a_low_designation_in_another_county_does_not_clear_it():
    f = facts(trip(), local_case(OTHER_COUNTY, R), designation(RISK_COUNTY, "low", at(2022, 6, 11)))

    assert popup_numbers(evaluate(f, at(2022, 6, 12))) == [1]


def test_it_fires_for_a_person_who_left_before_the_case_was_reported():
    f = facts(trip(arrived=at(2022, 6, 1), departed=at(2022, 6, 3)), local_case(OTHER_COUNTY, R))

    assert popup_numbers(evaluate(f, at(2022, 6, 12))) == [1]


def test_it_clears_14_days_after_the_person_left_and_not_one_microsecond_earlier():
    departed = at(2022, 6, 1, 9)
    f = facts(trip(arrived=at(2022, 5, 30), departed=departed), local_case(OTHER_COUNTY, R))

    at_edge = evaluate(f, departed + 14 * DAY)
    assert popup_numbers(at_edge) == [1]
    assert popup(at_edge, 1).clears_at == departed + 14 * DAY + US
    assert is_green(evaluate(f, departed + 14 * DAY + US))


def test_it_does_not_fire_for_a_person_who_left_more_than_14_days_ago():
    f = facts(trip(arrived=at(2022, 5, 20), departed=at(2022, 5, 25)), local_case(OTHER_COUNTY, R))

    assert is_green(evaluate(f, at(2022, 6, 10, 8)))


def test_it_does_not_fire_for_a_case_in_another_county():
    assert is_green(evaluate(facts(trip(), local_case(RISK_COUNTY, R)), at(2022, 6, 11)))


def test_it_does_not_fire_for_a_report_already_14_days_old():
    assert is_green(evaluate(facts(trip(), local_case(OTHER_COUNTY, R - 14 * DAY)), at(2022, 6, 11)))


def test_it_does_not_fire_for_a_city_precision_stay():
    f = facts(
        telecom_stay(RISK_CITY, at(2022, 6, 8), at(2022, 6, 9)),
        phone("phone-1", at(2022, 1, 1)),
        local_case(RISK_COUNTY, R),
    )

    assert is_green(evaluate(f, at(2022, 6, 11)))


def test_it_uses_the_local_case_clear_days_of_the_policy():
    f = facts(trip(), local_case(OTHER_COUNTY, R), policy=Policy(local_case_clear_days=7))

    assert popup_numbers(evaluate(f, at(2022, 6, 17) - US)) == [1]
    assert is_green(evaluate(f, at(2022, 6, 17)))


def test_it_says_popup_1_began_at_the_report_date_for_a_stay_before_it():
    result = evaluate(facts(trip(), local_case(OTHER_COUNTY, R)), at(2022, 6, 12))

    assert popup(result, 1).since == at(2022, 6, 10)


def test_it_says_popup_1_began_at_the_arrival_for_a_stay_begun_after_the_report():
    result = evaluate(facts(trip(arrived=at(2022, 6, 11, 7)), local_case(OTHER_COUNTY, R)), at(2022, 6, 12))

    assert popup(result, 1).since == at(2022, 6, 11, 7)


def test_it_announces_the_moment_an_older_report_ages_out_before_its_answer_changes():
    """Reports on May 1 and May 2 and a stay still going on: evaluated on May 11 the popup is dated
    from May 1 and names both reports. At 00:00 on May 15 the May 1 report is no longer within 14
    days: the popup's `since` and its evidence change then. That moment has to be a next change
    (SPEC §10), or a status stored on May 11 keeps saying so until May 16."""
    f = facts(
        stay(OTHER_COUNTY, at(2022, 4, 30)),
        local_case(OTHER_COUNTY, dt.date(2022, 5, 1)),
        local_case(OTHER_COUNTY, dt.date(2022, 5, 2)),
    )
    result = evaluate(f, at(2022, 5, 11, 9))
    assert result.next_change_at is not None
    later = evaluate(f, result.next_change_at - US)

    assert later.popups == result.popups
    assert [evidence_of(r) for r in later.reasons] == [evidence_of(r) for r in result.reasons]
