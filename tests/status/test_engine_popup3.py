"""Popup ③ — medium/high-risk areas (SPEC §2 ③, §4): (a) county stays, (b) city-precision stays
unless a verified declaration covers them, (c) associations; and the rules for telecom stays."""

import pytest

from apps.policy.selectors import Policy
from apps.status.engine.evaluate import evaluate
from tests.status.engine_builders import (
    DAY,
    HOUR,
    LOW_COUNTY,
    MINUTE,
    OTHER_CITY,
    OTHER_COUNTY,
    RISK_CITY,
    RISK_COUNTY,
    US,
    association,
    at,
    declaration,
    designation,
    evidence_of,
    facts,
    hotel_check_in,
    is_green,
    lab,
    phone,
    place,
    popup,
    popup_numbers,
    reasons_for,
    rules,
    stay,
    telecom_stay,
)

NOW = at(2022, 7, 20, 12)
LONG_AGO = at(2022, 6, 1)
L = 14 * DAY
COUNTY_RULE = "popup3.risk_county_stay"
CITY_RULE = "popup3.risk_city_stay"
ASSOCIATION_RULE = "popup3.association"


def risky(level="medium", area=RISK_COUNTY, effective_from=LONG_AGO, **kw):
    return designation(area, level, effective_from, **kw)


# (a) a stay in a county whose current designation is medium or high


@pytest.mark.parametrize("level", ["medium", "high"])
def test_it_fires_popup_3_for_a_stay_in_a_county_now_designated_medium_or_high(level):
    trip = stay(RISK_COUNTY, NOW - 5 * DAY, NOW - 3 * DAY)
    designated = risky(level)
    result = evaluate(facts(trip, designated), NOW)

    assert result.state == "popup"
    assert popup_numbers(result) == [3]
    assert popup(result, 3).clears == "manual_or_auto"
    [reason] = reasons_for(result, COUNTY_RULE)
    assert evidence_of(reason) == {("stay", trip.id), ("designation", designated.id)}
    assert reason.clears


def test_it_fires_when_the_designation_was_published_after_the_person_left():
    trip = stay(RISK_COUNTY, NOW - 6 * DAY, NOW - 5 * DAY)
    result = evaluate(facts(trip, risky(effective_from=NOW - DAY)), NOW)

    assert popup_numbers(result) == [3]
    assert popup(result, 3).since == NOW - DAY


def test_it_counts_a_stay_that_departed_exactly_lookback_ago():
    result = evaluate(facts(stay(RISK_COUNTY, NOW - 20 * DAY, NOW - L), risky()), NOW)

    assert popup_numbers(result) == [3]


def test_it_does_not_count_a_stay_that_departed_one_microsecond_more_than_lookback_ago():
    result = evaluate(facts(stay(RISK_COUNTY, NOW - 20 * DAY, NOW - L - US), risky()), NOW)

    assert is_green(result)


def test_it_says_when_popup_3a_leaves_the_window_and_makes_it_the_next_change():
    departed = at(2022, 7, 6, 9)
    result = evaluate(facts(stay(RISK_COUNTY, departed - DAY, departed), risky()), at(2022, 7, 20, 8))

    assert popup(result, 3).clears_at == departed + L + US
    assert result.next_change_at == departed + L + US
    assert result.valid_until == departed + L + US


def test_it_has_no_clears_at_for_an_ongoing_stay():
    result = evaluate(facts(stay(RISK_COUNTY, NOW - DAY), risky()), NOW)

    assert popup(result, 3).clears_at is None


def test_it_follows_a_later_low_designation():
    f = facts(stay(RISK_COUNTY, NOW - 5 * DAY, NOW - 3 * DAY), risky(), risky("low", effective_from=NOW - DAY))

    assert is_green(evaluate(f, NOW))


def test_it_takes_the_latest_effective_from_not_the_latest_published():
    f = facts(
        stay(RISK_COUNTY, NOW - 5 * DAY, NOW - 3 * DAY),
        risky("low", effective_from=NOW - DAY, id=900),
        risky("high", effective_from=NOW - 10 * DAY, id=901),
    )

    assert is_green(evaluate(f, NOW))


@pytest.mark.parametrize(
    ("medium_id", "low_id", "fires"),
    [(10, 11, False), (11, 10, True)],
)
def test_it_breaks_a_tie_of_effective_from_by_the_higher_id(medium_id, low_id, fires):
    moment = NOW - 2 * DAY
    f = facts(
        stay(RISK_COUNTY, NOW - 5 * DAY, NOW - 3 * DAY),
        risky("medium", effective_from=moment, id=medium_id),
        risky("low", effective_from=moment, id=low_id),
    )

    assert (popup_numbers(evaluate(f, NOW)) == [3]) is fires


def test_it_waits_for_a_designation_not_yet_in_force_and_reports_it_as_the_next_change():
    starts = NOW + 2 * HOUR
    f = facts(stay(RISK_COUNTY, NOW - 5 * DAY, NOW - 3 * DAY), risky(effective_from=starts))

    before = evaluate(f, NOW)
    assert is_green(before)
    assert before.next_change_at == starts
    assert is_green(evaluate(f, starts - US))
    assert popup_numbers(evaluate(f, starts)) == [3]


def test_it_does_not_count_a_refunded_ticket():
    trip = dict(area=RISK_COUNTY, arrived=NOW - 5 * DAY, departed=NOW - 3 * DAY, source="rail")

    assert is_green(evaluate(facts(stay(**trip, refunded=True), risky()), NOW))
    assert popup_numbers(evaluate(facts(stay(**trip), risky()), NOW)) == [3]


def test_it_does_not_count_a_stay_that_begins_after_t_and_reports_its_arrival_as_the_next_change():
    arrives = NOW + 3 * HOUR
    f = facts(stay(RISK_COUNTY, arrives, arrives + DAY), risky())

    assert is_green(evaluate(f, NOW))
    assert evaluate(f, NOW).next_change_at == arrives
    assert popup_numbers(evaluate(f, arrives)) == [3]


def test_it_ignores_a_stay_in_a_low_county_of_a_city_that_has_a_risky_county():
    assert is_green(evaluate(facts(stay(LOW_COUNTY, NOW - 5 * DAY, NOW - 3 * DAY), risky()), NOW))


def test_it_ignores_a_county_without_designation():
    assert is_green(evaluate(facts(stay(OTHER_COUNTY, NOW - 5 * DAY, NOW - 3 * DAY), risky()), NOW))


def test_it_uses_the_lookback_days_of_the_policy():
    trip = stay(RISK_COUNTY, NOW - 9 * DAY, NOW - 8 * DAY)

    assert popup_numbers(evaluate(facts(trip, risky()), NOW)) == [3]
    assert is_green(evaluate(facts(trip, risky(), policy=Policy(lookback_days=7)), NOW))


def test_it_keeps_popup_3a_after_a_hotel_check_in():
    result = evaluate(facts(stay(RISK_COUNTY, NOW - 5 * DAY, NOW - 3 * DAY), risky(), hotel_check_in(NOW - DAY)), NOW)

    assert rules(result) == [COUNTY_RULE]


# Telecom stays: city precision, belonging to a phone number


def bound(number_hash="phone-1", bound_at=LONG_AGO, unbound_at=None):
    return phone(number_hash, bound_at, unbound_at)


def test_it_ignores_a_telecom_stay_of_a_number_that_is_not_the_persons():
    trip = telecom_stay(RISK_CITY, NOW - 2 * DAY, NOW - DAY, phone_hash="phone-1")

    assert is_green(evaluate(facts(trip, risky()), NOW))
    assert is_green(evaluate(facts(trip, risky(), bound("phone-2")), NOW))
    assert popup_numbers(evaluate(facts(trip, risky(), bound("phone-1")), NOW)) == [3]


def test_it_ignores_a_telecom_stay_that_lasted_3_hours_59():
    arrived = NOW - 2 * DAY
    trip = telecom_stay(RISK_CITY, arrived, arrived + 4 * HOUR - MINUTE)

    assert is_green(evaluate(facts(trip, risky(), bound()), NOW))


def test_it_counts_a_telecom_stay_that_lasted_exactly_4_hours_under_rule_3b():
    arrived = NOW - 2 * DAY
    trip = telecom_stay(RISK_CITY, arrived, arrived + 4 * HOUR)
    result = evaluate(facts(trip, risky(), bound()), NOW)

    assert popup_numbers(result) == [3]
    assert rules(result) == [CITY_RULE]


def test_it_counts_an_ongoing_telecom_stay_once_4_hours_have_passed():
    arrived = NOW - 5 * HOUR
    f = facts(telecom_stay(RISK_CITY, arrived), risky(), bound())

    early = evaluate(f, arrived + HOUR)
    assert is_green(early)
    assert early.next_change_at == arrived + 4 * HOUR
    assert is_green(evaluate(f, arrived + 4 * HOUR - US))
    assert rules(evaluate(f, arrived + 4 * HOUR)) == [CITY_RULE]


def test_it_uses_the_telecom_min_stay_hours_of_the_policy():
    arrived = NOW - 2 * DAY
    trip = telecom_stay(RISK_CITY, arrived, arrived + 2 * HOUR)

    assert is_green(evaluate(facts(trip, risky(), bound()), NOW))
    assert popup_numbers(evaluate(facts(trip, risky(), bound(), policy=Policy(telecom_min_stay_hours=2)), NOW)) == [3]


def test_it_counts_an_unbound_numbers_stays_until_14_days_after_unbinding_and_not_at_that_moment():
    arrived = at(2022, 7, 10, 8)
    unbound = arrived + 2 * HOUR
    f = facts(telecom_stay(RISK_CITY, arrived, arrived + 5 * HOUR), risky(), bound(unbound_at=unbound))

    assert popup_numbers(evaluate(f, unbound + 14 * DAY - US)) == [3]
    assert is_green(evaluate(f, unbound + 14 * DAY))


def test_it_reports_the_end_of_an_unbound_numbers_period_as_the_next_change():
    arrived = at(2022, 7, 10, 8)
    unbound = arrived + 2 * HOUR
    f = facts(telecom_stay(RISK_CITY, arrived, arrived + 5 * HOUR), risky(), bound(unbound_at=unbound))

    assert evaluate(f, unbound + 14 * DAY - HOUR).next_change_at == unbound + 14 * DAY


def test_it_counts_a_stay_begun_after_unbinding_but_within_the_14_days():
    unbound = NOW - 3 * DAY
    f = facts(telecom_stay(RISK_CITY, NOW - 2 * DAY, NOW - DAY), risky(), bound(unbound_at=unbound))

    assert popup_numbers(evaluate(f, NOW)) == [3]


def test_it_uses_the_phone_unbind_days_of_the_policy():
    unbound = NOW - 3 * DAY
    f = facts(
        telecom_stay(RISK_CITY, NOW - 4 * DAY, NOW - 3 * DAY),
        risky(),
        bound(unbound_at=unbound),
        policy=Policy(phone_unbind_days=2),
    )

    assert is_green(evaluate(f, NOW))


def test_it_counts_a_number_registered_to_the_id_by_a_carrier_like_any_bound_number():
    trip = telecom_stay(RISK_CITY, NOW - 2 * DAY, NOW - DAY, phone_hash="carrier-registered")

    assert popup_numbers(evaluate(facts(trip, risky(), phone("carrier-registered", LONG_AGO)), NOW)) == [3]


def test_it_counts_the_stays_of_every_number_of_the_person():
    one = telecom_stay(RISK_CITY, NOW - 3 * DAY, NOW - 2 * DAY, phone_hash="wechat")
    two = telecom_stay(RISK_CITY, NOW - 2 * DAY, NOW - DAY, phone_hash="alipay")
    result = evaluate(facts(one, two, risky(), bound("wechat"), bound("alipay")), NOW)

    stays = {e.id for r in reasons_for(result, CITY_RULE) for e in r.evidence if e.kind == "stay"}
    assert stays == {one.id, two.id}


def test_it_ignores_a_stay_that_ended_before_the_number_was_bound():
    trip = telecom_stay(RISK_CITY, NOW - 3 * DAY, NOW - 2 * DAY)

    assert is_green(evaluate(facts(trip, risky(), bound(bound_at=NOW - 2 * DAY + MINUTE)), NOW))


def test_it_counts_a_stay_that_overlaps_the_start_of_the_binding():
    trip = telecom_stay(RISK_CITY, NOW - 3 * DAY, NOW - 2 * DAY)

    assert popup_numbers(evaluate(facts(trip, risky(), bound(bound_at=NOW - 2 * DAY - HOUR)), NOW)) == [3]


def test_it_ignores_a_number_bound_after_t_until_it_is_bound():
    binds = NOW + HOUR
    f = facts(telecom_stay(RISK_CITY, NOW - 2 * DAY), risky(), bound(bound_at=binds))

    assert is_green(evaluate(f, NOW))
    assert evaluate(f, NOW).next_change_at == binds
    assert popup_numbers(evaluate(f, binds)) == [3]


# (b) a city-precision stay in a city containing a medium/high county


def test_it_fires_3b_for_a_city_precision_stay_in_a_city_containing_a_risky_county():
    trip = telecom_stay(RISK_CITY, NOW - 3 * DAY, NOW - DAY)
    designated = risky("high")
    result = evaluate(facts(trip, designated, bound()), NOW)

    assert popup(result, 3).clears == "manual_or_auto"
    [reason] = reasons_for(result, CITY_RULE)
    assert evidence_of(reason) == {("stay", trip.id), ("designation", designated.id)}


def test_it_does_not_fire_3b_when_every_designated_county_of_the_city_is_low():
    trip = telecom_stay(RISK_CITY, NOW - 3 * DAY, NOW - DAY)

    assert is_green(evaluate(facts(trip, risky("low"), bound()), NOW))
    assert is_green(evaluate(facts(trip, risky(area=OTHER_COUNTY), bound()), NOW))
    assert is_green(evaluate(facts(trip, risky(), risky("low", effective_from=NOW - DAY), bound()), NOW))


ENTRY = at(2022, 7, 19, 20)  # into Beijing, as the declaration states


def declared_trip(*, nat=None, nat_result="negative", area=LOW_COUNTY, with_county_stay=False, submitted=None):
    """A telecom stay in the starred city before entering Beijing, a declaration of one county in
    that city for the same days, and optionally a NAT."""
    arrived, departed = ENTRY - 3 * DAY, ENTRY - 5 * HOUR
    items = [
        telecom_stay(RISK_CITY, arrived, departed),
        risky(),
        bound(),
        declaration(submitted or ENTRY + HOUR, place(area, arrived, departed), entered_beijing_at=ENTRY),
    ]
    if nat is not None:
        items.append(lab(nat, nat_result))
    if with_county_stay:
        items.append(stay(area, arrived, departed, source="declared"))
    return facts(*items)


@pytest.mark.parametrize(
    ("nat", "verified"),
    [
        (ENTRY - 47 * HOUR - 59 * MINUTE, True),
        (ENTRY - 48 * HOUR, True),
        (ENTRY - 48 * HOUR - MINUTE, False),
        (ENTRY - 48 * HOUR - US, False),
        (ENTRY - 48 * HOUR - 60 * MINUTE, False),
        (ENTRY, True),
        (ENTRY + 10 * HOUR, True),
    ],
)
def test_a_declaration_of_low_counties_verifies_only_with_a_nat_from_48h_before_entry_on(nat, verified):
    result = evaluate(declared_trip(nat=nat), NOW)

    assert is_green(result) is verified
    assert (rules(result) == [CITY_RULE]) is not verified


def test_a_declaration_without_a_nat_leaves_popup_3():
    assert rules(evaluate(declared_trip(), NOW)) == [CITY_RULE]


def test_a_positive_nat_does_not_verify_a_declaration():
    assert rules(evaluate(declared_trip(nat=ENTRY - HOUR, nat_result="positive"), NOW)) == [CITY_RULE]


def test_a_declaration_naming_a_risky_county_does_not_verify_and_its_county_stay_fires_3a():
    result = evaluate(declared_trip(nat=ENTRY - HOUR, area=RISK_COUNTY, with_county_stay=True), NOW)

    assert popup_numbers(result) == [3]
    assert rules(result) == [CITY_RULE, COUNTY_RULE]


def test_a_declaration_naming_a_low_and_a_risky_county_does_not_verify():
    arrived, departed = ENTRY - 3 * DAY, ENTRY - 5 * HOUR
    f = facts(
        telecom_stay(RISK_CITY, arrived, departed),
        risky(),
        bound(),
        lab(ENTRY - HOUR),
        declaration(
            ENTRY + HOUR,
            place(LOW_COUNTY, arrived, arrived + DAY),
            place(RISK_COUNTY, arrived + DAY, departed),
            entered_beijing_at=ENTRY,
        ),
    )

    assert rules(evaluate(f, NOW)) == [CITY_RULE]


def test_a_declared_county_in_another_city_does_not_cover_the_stay():
    assert rules(evaluate(declared_trip(nat=ENTRY - HOUR, area=OTHER_COUNTY), NOW)) == [CITY_RULE]


def test_a_declared_place_that_does_not_overlap_the_stay_in_time_does_not_cover_it():
    f = facts(
        telecom_stay(RISK_CITY, ENTRY - 3 * DAY, ENTRY - 5 * HOUR),
        risky(),
        bound(),
        lab(ENTRY - HOUR),
        declaration(ENTRY + HOUR, place(LOW_COUNTY, ENTRY - 6 * DAY, ENTRY - 3 * DAY - US), entered_beijing_at=ENTRY),
    )

    assert rules(evaluate(f, NOW)) == [CITY_RULE]


def test_a_declaration_covers_from_the_moment_it_is_submitted():
    submitted = NOW + HOUR
    f = declared_trip(nat=ENTRY - HOUR, submitted=submitted)

    before = evaluate(f, NOW)
    assert rules(before) == [CITY_RULE]
    assert before.next_change_at == submitted
    assert is_green(evaluate(f, submitted))


def test_a_verified_declaration_stops_verifying_when_a_declared_county_becomes_risky():
    turns = NOW + 2 * HOUR
    f = facts(
        telecom_stay(RISK_CITY, ENTRY - 3 * DAY, ENTRY - 5 * HOUR),
        bound(),
        risky(),
        lab(ENTRY - HOUR),
        declaration(ENTRY + HOUR, place(LOW_COUNTY, ENTRY - 3 * DAY, ENTRY - 5 * HOUR), entered_beijing_at=ENTRY),
        risky(area=LOW_COUNTY, effective_from=turns),
    )

    before = evaluate(f, NOW)
    assert is_green(before)
    assert before.next_change_at == turns
    assert rules(evaluate(f, turns)) == [CITY_RULE]


def test_a_hotel_check_in_covers_the_city_precision_stays_begun_before_it():
    trip = telecom_stay(RISK_CITY, NOW - 3 * DAY, NOW - DAY)

    assert is_green(evaluate(facts(trip, risky(), bound(), hotel_check_in(NOW - 12 * HOUR)), NOW))


def test_a_hotel_check_in_does_not_cover_a_city_stay_begun_after_it():
    trip = telecom_stay(RISK_CITY, NOW - 2 * DAY, NOW - DAY)

    assert rules(evaluate(facts(trip, risky(), bound(), hotel_check_in(NOW - 3 * DAY)), NOW)) == [CITY_RULE]


def test_it_fires_3b_for_a_city_precision_stay_from_another_source_too():
    trip = stay(RISK_CITY, NOW - 3 * DAY, NOW - DAY, source="checkpoint", precision="city")

    assert rules(evaluate(facts(trip, risky()), NOW)) == [CITY_RULE]


def test_it_does_not_fire_3b_for_a_city_stay_in_another_city():
    trip = telecom_stay(OTHER_CITY, NOW - 3 * DAY, NOW - DAY)

    assert is_green(evaluate(facts(trip, risky(), bound()), NOW))


# (c) associations


@pytest.mark.parametrize("kind", ["epidemiological", "venue_scan", "phone_owner"])
def test_it_fires_3c_for_an_association_in_the_window(kind):
    link = association(NOW - 3 * DAY, kind)
    result = evaluate(facts(link), NOW)

    assert popup_numbers(result) == [3]
    assert popup(result, 3).clears == "manual_or_auto"
    [reason] = reasons_for(result, ASSOCIATION_RULE)
    assert evidence_of(reason) == {("association", link.id)}


def test_it_keeps_3c_until_14_days_after_the_observation_inclusive():
    observed = NOW - 3 * DAY
    f = facts(association(observed))

    assert popup(evaluate(f, observed + L), 3).clears_at == observed + L + US
    assert popup_numbers(evaluate(f, observed + L)) == [3]
    assert is_green(evaluate(f, observed + L + US))


def test_it_reports_the_end_of_3c_as_the_next_change():
    observed = at(2022, 7, 6, 15)
    result = evaluate(facts(association(observed)), at(2022, 7, 20, 10))

    assert result.next_change_at == observed + L + US
    assert result.valid_until == observed + L + US


def test_it_ignores_an_association_observed_after_t():
    observed = NOW + HOUR
    f = facts(association(observed))

    assert is_green(evaluate(f, NOW))
    assert evaluate(f, NOW).next_change_at == observed


def test_it_lists_one_popup_3_for_all_three_kinds_of_evidence():
    f = facts(
        stay(RISK_COUNTY, NOW - 5 * DAY, NOW - 4 * DAY),
        telecom_stay(RISK_CITY, NOW - 3 * DAY, NOW - 2 * DAY),
        bound(),
        risky(),
        association(NOW - DAY),
    )
    result = evaluate(f, NOW)

    assert popup_numbers(result) == [3]
    assert rules(result) == [ASSOCIATION_RULE, CITY_RULE, COUNTY_RULE]
    assert popup(result, 3).clears_at == NOW - DAY + L + US  # the association, the last to leave the window


def test_a_hotel_check_in_does_not_clear_popup_3c():
    result = evaluate(facts(association(NOW - 2 * DAY), hotel_check_in(NOW - DAY)), NOW)

    assert rules(result) == [ASSOCIATION_RULE]
