"""Colours from orders and location (SPEC §3) and the precedence red > yellow > popup > green
(SPEC §1), with the popups still listed under red and yellow."""

import pytest

from apps.status.engine.evaluate import evaluate
from tests.status.engine_builders import (
    DAY,
    HOUR,
    LOW_COUNTY,
    OTHER_COUNTY,
    RISK_COUNTY,
    US,
    arrival,
    association,
    at,
    designation,
    evidence_of,
    facts,
    is_green,
    order,
    popup_numbers,
    reasons_for,
    rules,
    stay,
)

NOW = at(2022, 5, 15, 12)
LONG_AGO = at(2022, 4, 1)


def test_a_centralized_order_makes_the_person_red_and_still_lists_the_popups():
    issued = order("centralized", NOW - DAY)
    result = evaluate(facts(issued, association(NOW - 2 * DAY)), NOW)

    assert result.state == "red"
    assert popup_numbers(result) == [3]
    [reason] = reasons_for(result, "red.centralized_order")
    assert reason.state == "red"
    assert evidence_of(reason) == {("observation_order", issued.id)}
    assert result.reasons[0].rule == "red.centralized_order"


def test_a_home_order_makes_the_person_yellow():
    issued = order("home", NOW - DAY)
    result = evaluate(facts(issued), NOW)

    assert result.state == "yellow"
    assert result.popups == ()
    [reason] = reasons_for(result, "yellow.home_order")
    assert evidence_of(reason) == {("observation_order", issued.id)}


@pytest.mark.parametrize("kind", ["centralized", "home"])
def test_an_order_ended_by_its_issuer_no_longer_colours_from_that_moment(kind):
    ended = NOW - HOUR
    f = facts(order(kind, NOW - 5 * DAY, ended_at=ended))

    assert evaluate(f, ended - US).state == ("red" if kind == "centralized" else "yellow")
    assert is_green(evaluate(f, ended))
    assert is_green(evaluate(f, NOW))


@pytest.mark.parametrize("kind", ["centralized", "home"])
def test_an_order_that_ends_later_gives_its_end_as_the_next_change(kind):
    ends = NOW + 3 * HOUR
    f = facts(order(kind, NOW - 5 * DAY, ends_at=ends))

    result = evaluate(f, NOW)
    assert result.next_change_at == ends
    assert result.valid_until == ends
    assert reasons_for(result, result.reasons[0].rule)[0].clears_at == ends
    assert evaluate(f, ends - US).state != "green"
    assert is_green(evaluate(f, ends))


def test_an_order_ended_before_its_planned_end_stops_at_the_earlier_moment():
    f = facts(order("centralized", NOW - 5 * DAY, ends_at=NOW + 5 * DAY, ended_at=NOW - HOUR))

    assert is_green(evaluate(f, NOW))


def test_an_order_not_yet_started_waits_and_is_the_next_change():
    starts = NOW + 2 * HOUR
    f = facts(order("home", starts))

    assert is_green(evaluate(f, NOW))
    assert evaluate(f, NOW).next_change_at == starts
    assert is_green(evaluate(f, starts - US))
    assert evaluate(f, starts).state == "yellow"


def test_an_open_ended_order_never_ends_by_itself():
    result = evaluate(facts(order("centralized", NOW - DAY)), NOW + 300 * DAY)

    assert result.state == "red"
    assert result.next_change_at is None


@pytest.mark.parametrize("level", ["medium", "high"])
def test_an_ongoing_latest_stay_in_a_risky_county_makes_yellow_and_lists_popup_3(level):
    here = stay(RISK_COUNTY, NOW - 2 * DAY)
    designated = designation(RISK_COUNTY, level, LONG_AGO)
    result = evaluate(facts(stay(OTHER_COUNTY, NOW - 5 * DAY, NOW - 2 * DAY), here, designated), NOW)

    assert result.state == "yellow"
    assert popup_numbers(result) == [3]
    [reason] = reasons_for(result, "yellow.in_risk_county")
    assert evidence_of(reason) == {("stay", here.id), ("designation", designated.id)}


def test_a_departed_stay_in_a_risky_county_is_a_popup_not_yellow():
    result = evaluate(
        facts(stay(RISK_COUNTY, NOW - 2 * DAY, NOW - HOUR), designation(RISK_COUNTY, "high", LONG_AGO)), NOW
    )

    assert result.state == "popup"
    assert "yellow.in_risk_county" not in rules(result)


def test_an_ongoing_stay_in_a_low_county_is_green():
    f = facts(stay(LOW_COUNTY, NOW - 2 * DAY), designation(RISK_COUNTY, "high", LONG_AGO))

    assert is_green(evaluate(f, NOW))


def test_an_ongoing_stay_that_is_not_the_latest_does_not_make_yellow():
    f = facts(
        stay(RISK_COUNTY, NOW - 5 * DAY),  # no departure recorded
        stay(OTHER_COUNTY, NOW - 2 * DAY),
        designation(RISK_COUNTY, "high", LONG_AGO),
    )
    result = evaluate(f, NOW)

    assert result.state == "popup"
    assert popup_numbers(result) == [3]


def test_the_county_turning_risky_while_the_person_is_there_turns_yellow_at_that_moment():
    turns = NOW + HOUR
    f = facts(stay(RISK_COUNTY, NOW - 2 * DAY), designation(RISK_COUNTY, "high", turns))

    assert is_green(evaluate(f, NOW))
    assert evaluate(f, NOW).next_change_at == turns
    assert evaluate(f, turns).state == "yellow"


def test_the_county_turning_low_while_the_person_is_there_ends_yellow():
    f = facts(
        stay(RISK_COUNTY, NOW - 2 * DAY),
        designation(RISK_COUNTY, "high", LONG_AGO),
        designation(RISK_COUNTY, "low", NOW - HOUR),
    )

    assert is_green(evaluate(f, NOW))


@pytest.mark.parametrize(
    ("has", "state"),
    [
        ({"centralized", "home", "popup"}, "red"),
        ({"centralized", "home"}, "red"),
        ({"centralized", "popup"}, "red"),
        ({"centralized"}, "red"),
        ({"home", "popup"}, "yellow"),
        ({"home"}, "yellow"),
        ({"popup"}, "popup"),
        (set(), "green"),
    ],
)
def test_it_orders_the_states_red_over_yellow_over_popup_over_green(has, state):
    items = [order(kind, NOW - DAY) for kind in ("centralized", "home") if kind in has]
    if "popup" in has:
        items.append(arrival(NOW - 2 * DAY))
    result = evaluate(facts(*items), NOW)

    assert result.state == state
    assert popup_numbers(result) == ([2] if "popup" in has else [])


def test_it_lists_red_reasons_before_yellow_before_popups():
    f = facts(order("home", NOW - DAY), arrival(NOW - 2 * DAY), order("centralized", NOW - DAY))
    result = evaluate(f, NOW)

    assert [r.rule for r in result.reasons] == [
        "red.centralized_order",
        "yellow.home_order",
        "popup2.inbound_quarantine",
    ]
