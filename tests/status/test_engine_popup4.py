"""Popup ④ — a trigger (entering Beijing, one of four drug classes, one of eleven symptoms) with no
negative NAT sampled at or after it, once `popup4_grace_hours` (72) have passed (SPEC §2 ④, §4)."""

import pytest

from apps.policy.selectors import Policy
from apps.status.engine.evaluate import evaluate
from tests.status.engine_builders import (
    DAY,
    HOUR,
    SECOND,
    US,
    arrival,
    at,
    event,
    evidence_of,
    facts,
    hotel_check_in,
    is_green,
    lab,
    popup,
    popup_numbers,
    reasons_for,
)

TRIGGER = at(2022, 6, 1, 9, 30)
GRACE = 72 * HOUR
DUE = TRIGGER + GRACE  # 2022-06-04 09:30
RULE = "popup4.untested_trigger"

DRUG_CLASSES = ["antipyretic", "cough", "antiviral", "antibiotic"]
SYMPTOMS = [
    "fever",
    "dry_cough",
    "fatigue",
    "sore_throat",
    "smell_taste_loss",
    "nasal_congestion",
    "runny_nose",
    "conjunctivitis",
    "myalgia",
    "diarrhea",
    "dyspnea",
]


def entry(occurred_at=TRIGGER, detail=""):
    return event("beijing_entry", occurred_at, detail)


@pytest.mark.parametrize("detail", ["", "G1 Shanghai–Beijing", "airport:PEK", "anything at all"])
def test_it_counts_entering_beijing_as_a_trigger_whatever_its_detail(detail):
    trigger = entry(detail=detail)
    result = evaluate(facts(trigger), DUE)

    assert result.state == "popup"
    assert popup_numbers(result) == [4]
    [reason] = reasons_for(result, RULE)
    assert evidence_of(reason) == {("health_event", trigger.id)}


@pytest.mark.parametrize("drug", DRUG_CLASSES)
def test_it_counts_buying_each_of_the_four_drug_classes_as_a_trigger(drug):
    result = evaluate(facts(event("drug_purchase", TRIGGER, drug)), DUE)

    assert popup_numbers(result) == [4]


@pytest.mark.parametrize("symptom", SYMPTOMS)
def test_it_counts_a_clinic_visit_with_each_of_the_eleven_symptoms_as_a_trigger(symptom):
    result = evaluate(facts(event("clinic_visit", TRIGGER, symptom)), DUE)

    assert popup_numbers(result) == [4]


@pytest.mark.parametrize(
    ("kind", "detail"),
    [
        ("drug_purchase", "vitamin"),
        ("drug_purchase", "antihistamine"),
        ("drug_purchase", ""),
        ("drug_purchase", "fever"),  # a symptom is no drug class
        ("clinic_visit", "headache"),
        ("clinic_visit", "fracture"),
        ("clinic_visit", ""),
        ("clinic_visit", "cough"),  # a drug class is no symptom ("dry_cough" is)
        ("vaccination", ""),
    ],
)
def test_it_ignores_other_drug_classes_symptoms_and_event_kinds(kind, detail):
    f = facts(event(kind, TRIGGER, detail))

    assert is_green(evaluate(f, DUE))
    assert is_green(evaluate(f, TRIGGER + 30 * DAY))
    assert evaluate(f, TRIGGER + HOUR).next_change_at is None


def test_it_shows_nothing_one_microsecond_before_the_grace_period_ends():
    assert is_green(evaluate(facts(entry()), DUE - US))


def test_it_fires_exactly_when_the_grace_period_ends():
    result = evaluate(facts(entry()), DUE)

    state = popup(result, 4)
    assert state.since == DUE
    assert state.clears == "auto"
    assert state.clears_at is None


def test_it_reports_the_end_of_the_grace_period_as_the_next_change():
    early = evaluate(facts(entry()), TRIGGER + HOUR)
    assert early.next_change_at == DUE
    assert early.valid_until == at(2022, 6, 2)

    late = evaluate(facts(entry()), DUE - HOUR)
    assert late.next_change_at == DUE
    assert late.valid_until == DUE


def test_it_keeps_the_popup_with_no_clock_driven_end_once_it_fired():
    result = evaluate(facts(entry()), DUE + 10 * DAY)

    assert popup_numbers(result) == [4]
    assert result.next_change_at is None
    assert result.valid_until == at(2022, 6, 15)


def test_it_does_not_count_a_nat_sampled_one_second_before_the_trigger():
    result = evaluate(facts(entry(), lab(TRIGGER - SECOND)), DUE)

    assert popup_numbers(result) == [4]


def test_it_counts_a_nat_sampled_exactly_at_the_trigger():
    f = facts(entry(), lab(TRIGGER))

    assert is_green(evaluate(f, DUE))
    assert evaluate(f, TRIGGER + HOUR).next_change_at is None


def test_it_does_not_count_a_positive_nat():
    result = evaluate(facts(entry(), lab(TRIGGER + HOUR, result="positive")), DUE)

    assert popup_numbers(result) == [4]


def test_it_clears_as_soon_as_a_negative_nat_sampled_ten_days_later_is_on_record():
    sampled = TRIGGER + 10 * DAY

    assert popup_numbers(evaluate(facts(entry()), sampled + HOUR)) == [4]
    assert is_green(evaluate(facts(entry(), lab(sampled)), sampled + HOUR))


def test_it_uses_the_grace_hours_of_the_policy():
    f = facts(entry(), policy=Policy(popup4_grace_hours=24))

    assert is_green(evaluate(f, TRIGGER + 24 * HOUR - US))
    assert popup_numbers(evaluate(f, TRIGGER + 24 * HOUR)) == [4]


def test_it_is_satisfied_by_a_hotel_check_in_after_the_trigger():
    result = evaluate(facts(entry(), hotel_check_in(TRIGGER + 5 * HOUR)), DUE + DAY)

    assert is_green(result)


def test_it_is_not_satisfied_by_a_hotel_check_in_before_the_trigger():
    result = evaluate(facts(entry(), hotel_check_in(TRIGGER - HOUR)), DUE + DAY)

    assert popup_numbers(result) == [4]


def test_it_fires_for_a_later_trigger_that_an_earlier_nat_does_not_cover():
    first, second = entry(), event("clinic_visit", TRIGGER + 2 * DAY, "fever")
    result = evaluate(facts(first, lab(TRIGGER + DAY), second), TRIGGER + 5 * DAY)

    [reason] = reasons_for(result, RULE)
    assert evidence_of(reason) == {("health_event", second.id)}
    assert popup(result, 4).since == second.occurred_at + GRACE


def test_one_nat_after_the_last_trigger_clears_every_earlier_trigger():
    f = facts(entry(), event("drug_purchase", TRIGGER + DAY, "cough"), lab(TRIGGER + 2 * DAY))

    assert is_green(evaluate(f, TRIGGER + 10 * DAY))


def test_it_lists_popup_4_beside_popup_2_for_an_inbound_traveller_who_then_entered_beijing():
    f = facts(arrival(TRIGGER - 5 * DAY), entry())

    assert popup_numbers(evaluate(f, DUE)) == [2, 4]
