"""Popup ② — inbound arrival in quarantine (SPEC §2 ②): ends at 00:00 on local date D + days + 1,
or at `quarantine_completed_at`."""

import datetime as dt

import pytest

from apps.policy.selectors import Policy
from apps.status.engine.evaluate import evaluate
from tests.status.engine_builders import (
    HOUR,
    US,
    arrival,
    at,
    evidence_of,
    facts,
    is_green,
    popup,
    popup_numbers,
    reasons_for,
)

ENTERED = at(2022, 8, 1, 10)
CLEARED = at(2022, 8, 23)


def test_it_shows_popup_2_in_the_last_microsecond_of_the_22nd_for_an_entry_on_the_1st():
    result = evaluate(facts(arrival(ENTERED)), CLEARED - US)

    assert result.state == "popup"
    assert popup_numbers(result) == [2]


def test_it_turns_green_at_midnight_on_the_23rd_exactly():
    result = evaluate(facts(arrival(ENTERED)), CLEARED)

    assert is_green(result)


def test_it_shows_popup_2_from_the_moment_of_entry_and_not_one_microsecond_earlier():
    f = facts(arrival(ENTERED))

    assert is_green(evaluate(f, ENTERED - US))
    assert popup_numbers(evaluate(f, ENTERED)) == [2]


def test_it_reports_the_future_entry_as_the_next_change():
    result = evaluate(facts(arrival(ENTERED)), ENTERED - HOUR)

    assert result.next_change_at == ENTERED


def test_it_says_popup_2_clears_automatically_at_midnight_on_the_23rd_and_names_the_arrival():
    item = arrival(ENTERED)
    result = evaluate(facts(item), at(2022, 8, 5, 12))

    state = popup(result, 2)
    assert state.clears == "auto"
    assert state.clears_at == CLEARED
    assert state.since == ENTERED
    [reason] = reasons_for(result, "popup2.inbound_quarantine")
    assert evidence_of(reason) == {("inbound_arrival", item.id)}


def test_it_makes_midnight_on_the_23rd_both_next_change_and_valid_until_on_the_last_day():
    result = evaluate(facts(arrival(ENTERED)), at(2022, 8, 22, 12))

    assert result.next_change_at == CLEARED
    assert result.valid_until == CLEARED


def test_it_keeps_valid_until_at_the_next_midnight_early_in_the_quarantine():
    result = evaluate(facts(arrival(ENTERED)), at(2022, 8, 5, 12))

    assert result.next_change_at == CLEARED
    assert result.valid_until == at(2022, 8, 6)


def test_it_counts_a_late_evening_entry_on_the_1st_as_the_1st():
    f = facts(arrival(at(2022, 8, 1, 23, 59)))

    assert popup_numbers(evaluate(f, CLEARED - US)) == [2]
    assert is_green(evaluate(f, CLEARED))


def test_it_counts_an_entry_just_after_local_midnight_as_the_2nd_though_its_utc_date_is_the_1st():
    entered = at(2022, 8, 2, 0, 1)
    assert entered.astimezone(dt.UTC).date() == dt.date(2022, 8, 1)
    f = facts(arrival(entered))

    assert popup_numbers(evaluate(f, CLEARED)) == [2]
    assert popup(evaluate(f, CLEARED), 2).clears_at == at(2022, 8, 24)
    assert popup_numbers(evaluate(f, at(2022, 8, 24) - US)) == [2]
    assert is_green(evaluate(f, at(2022, 8, 24)))


def test_it_uses_the_local_date_of_an_entry_recorded_in_utc():
    entered = dt.datetime(2022, 8, 1, 16, 1, tzinfo=dt.UTC)  # 00:01 on the 2nd in Beijing
    result = evaluate(facts(arrival(entered)), dt.datetime(2022, 8, 22, 16, 30, tzinfo=dt.UTC))

    assert popup_numbers(result) == [2]
    assert popup(result, 2).clears_at == at(2022, 8, 24)


def test_it_clears_popup_2_at_quarantine_completed_at_and_not_one_microsecond_earlier():
    completed = at(2022, 8, 10, 15, 30)
    f = facts(arrival(ENTERED, quarantine_completed_at=completed))

    assert popup_numbers(evaluate(f, completed - US)) == [2]
    assert is_green(evaluate(f, completed))


def test_it_announces_quarantine_completed_at_as_clears_at_and_next_change():
    completed = at(2022, 8, 10, 15, 30)
    result = evaluate(facts(arrival(ENTERED, quarantine_completed_at=completed)), at(2022, 8, 10, 9))

    assert popup(result, 2).clears_at == completed
    assert result.next_change_at == completed
    assert result.valid_until == completed


def test_it_ignores_a_completion_later_than_the_end_of_the_quarantine():
    f = facts(arrival(ENTERED, quarantine_completed_at=at(2022, 8, 25, 10)))

    assert popup(evaluate(f, at(2022, 8, 20)), 2).clears_at == CLEARED
    assert is_green(evaluate(f, CLEARED))


@pytest.mark.parametrize(
    ("days", "cleared"),
    [(14, at(2022, 8, 16)), (7, at(2022, 8, 9)), (28, at(2022, 8, 30))],
)
def test_it_uses_the_inbound_quarantine_days_of_the_policy(days, cleared):
    f = facts(arrival(ENTERED), policy=Policy(inbound_quarantine_days=days))

    assert popup_numbers(evaluate(f, cleared - US)) == [2]
    assert popup(evaluate(f, cleared - US), 2).clears_at == cleared
    assert is_green(evaluate(f, cleared))


def test_it_ends_each_of_two_arrivals_on_its_own_date():
    first, second = arrival(ENTERED), arrival(at(2022, 8, 20, 8))
    f = facts(first, second)

    result = evaluate(f, CLEARED)
    assert popup_numbers(result) == [2]
    [reason] = reasons_for(result, "popup2.inbound_quarantine")
    assert evidence_of(reason) == {("inbound_arrival", second.id)}
    assert is_green(evaluate(f, at(2022, 9, 11)))


def test_it_does_not_treat_an_inbound_arrival_as_a_popup_4_trigger():
    result = evaluate(facts(arrival(ENTERED)), at(2022, 8, 10))

    assert popup_numbers(result) == [2]
    assert [r.rule for r in result.reasons] == ["popup2.inbound_quarantine"]
