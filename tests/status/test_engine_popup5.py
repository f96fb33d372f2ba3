"""Popup ⑤ — a stay in the window in a land-border-port county (SPEC §2 ⑤)."""

from apps.policy.selectors import Policy
from apps.status.engine.evaluate import evaluate
from tests.status.engine_builders import (
    BORDER_COUNTY,
    DAY,
    HOUR,
    OTHER_COUNTY,
    US,
    at,
    border_port,
    evidence_of,
    facts,
    hotel_check_in,
    is_green,
    popup,
    popup_numbers,
    reasons_for,
    stay,
)

NOW = at(2022, 4, 20, 12)
PORT_SINCE = at(2022, 1, 1)
RULE = "popup5.border_port_county"


def test_it_fires_popup_5_for_a_stay_in_a_border_port_county_and_names_both():
    visit, port = stay(BORDER_COUNTY, NOW - 5 * DAY, NOW - 2 * DAY), border_port(BORDER_COUNTY, PORT_SINCE)
    result = evaluate(facts(visit, port), NOW)

    assert result.state == "popup"
    assert popup_numbers(result) == [5]
    assert popup(result, 5).clears == "auto"
    [reason] = reasons_for(result, RULE)
    assert evidence_of(reason) == {("stay", visit.id), ("border_port", port.id)}


def test_it_does_not_fire_for_a_stay_in_another_county():
    assert is_green(
        evaluate(facts(stay(OTHER_COUNTY, NOW - 5 * DAY, NOW - 2 * DAY), border_port(BORDER_COUNTY, PORT_SINCE)), NOW)
    )


def test_it_keeps_popup_5_until_14_days_after_departure_inclusive():
    departed = NOW - 2 * DAY
    f = facts(stay(BORDER_COUNTY, NOW - 5 * DAY, departed), border_port(BORDER_COUNTY, PORT_SINCE))

    at_edge = evaluate(f, departed + 14 * DAY)
    assert popup_numbers(at_edge) == [5]
    assert popup(at_edge, 5).clears_at == departed + 14 * DAY + US
    assert is_green(evaluate(f, departed + 14 * DAY + US))


def test_it_reports_the_end_of_the_window_as_the_next_change():
    departed = at(2022, 4, 6, 9, 15)
    result = evaluate(
        facts(stay(BORDER_COUNTY, departed - DAY, departed), border_port(BORDER_COUNTY, PORT_SINCE)), NOW - 5 * HOUR
    )

    assert result.next_change_at == departed + 14 * DAY + US
    assert result.valid_until == departed + 14 * DAY + US


def test_it_has_no_clears_at_while_the_person_is_still_there():
    result = evaluate(facts(stay(BORDER_COUNTY, NOW - 5 * DAY), border_port(BORDER_COUNTY, PORT_SINCE)), NOW)

    assert popup(result, 5).clears_at is None


def test_the_end_of_the_border_port_designation_ends_it_and_not_one_microsecond_earlier():
    ends = NOW + 3 * HOUR
    f = facts(stay(BORDER_COUNTY, NOW - 5 * DAY, NOW - 2 * DAY), border_port(BORDER_COUNTY, PORT_SINCE, ends))

    assert evaluate(f, NOW).next_change_at == ends
    assert popup_numbers(evaluate(f, ends - US)) == [5]
    assert is_green(evaluate(f, ends))


def test_a_border_port_designation_not_yet_in_force_waits_and_is_the_next_change():
    starts = NOW + 3 * HOUR
    f = facts(stay(BORDER_COUNTY, NOW - 5 * DAY, NOW - 2 * DAY), border_port(BORDER_COUNTY, starts))

    assert is_green(evaluate(f, NOW))
    assert evaluate(f, NOW).next_change_at == starts
    assert popup_numbers(evaluate(f, starts)) == [5]


def test_a_border_port_designation_in_force_after_the_person_left_still_fires():
    f = facts(stay(BORDER_COUNTY, NOW - 5 * DAY, NOW - 4 * DAY), border_port(BORDER_COUNTY, NOW - DAY))

    assert popup_numbers(evaluate(f, NOW)) == [5]


def test_it_does_not_count_a_refunded_ticket():
    f = facts(stay(BORDER_COUNTY, NOW - 5 * DAY, NOW - 2 * DAY, refunded=True), border_port(BORDER_COUNTY, PORT_SINCE))

    assert is_green(evaluate(f, NOW))


def test_it_uses_the_lookback_days_of_the_policy():
    f = facts(
        stay(BORDER_COUNTY, NOW - 9 * DAY, NOW - 8 * DAY),
        border_port(BORDER_COUNTY, PORT_SINCE),
        policy=Policy(lookback_days=7),
    )

    assert is_green(evaluate(f, NOW))


def test_a_hotel_check_in_does_not_clear_popup_5():
    f = facts(
        stay(BORDER_COUNTY, NOW - 5 * DAY, NOW - 2 * DAY),
        border_port(BORDER_COUNTY, PORT_SINCE),
        hotel_check_in(NOW - DAY),
    )

    assert popup_numbers(evaluate(f, NOW)) == [5]
