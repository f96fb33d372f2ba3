"""Properties of the whole engine over random small sets of facts (SPEC §1, §10): determinism,
green without evidence, precedence, reasons for every popup, and `next_change_at` being the
earliest moment the answer can change without new data. Also `valid_until` by example."""

import datetime as dt

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from apps.core.clock import local_date, next_local_midnight
from apps.status.engine.evaluate import evaluate
from apps.status.engine.facts import (
    ArrivalFact,
    AssociationFact,
    BorderPortFact,
    DeclarationFact,
    DesignationFact,
    EventFact,
    Facts,
    LabFact,
    LocalCaseFact,
    OrderFact,
    PhoneFact,
    PlaceFact,
    ReleaseFact,
    StayFact,
)
from tests.status.engine_builders import (
    DAY,
    HOUR,
    LOW_COUNTY,
    MINUTE,
    OTHER_COUNTY,
    RISK_CITY,
    RISK_COUNTY,
    US,
    arrival,
    association,
    at,
    city_of,
    facts,
    is_green,
    lab,
    order,
    stay,
)

BASE = at(2022, 5, 1)
COUNTIES = (RISK_COUNTY, LOW_COUNTY, OTHER_COUNTY)
EVENTS = (
    ("beijing_entry", ""),
    ("drug_purchase", "antipyretic"),
    ("drug_purchase", "vitamin"),
    ("clinic_visit", "fever"),
    ("clinic_visit", "headache"),
)
PROPERTY_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,  # the same examples on every run: no flaky failures, no example database
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def moments():
    """Whole hours over 40 days from BASE, sometimes off the hour, so that edges coincide often."""
    return st.builds(
        lambda hours, extra: BASE + hours * HOUR + extra,
        st.integers(0, 40 * 24),
        st.sampled_from([dt.timedelta(0), dt.timedelta(0), US, 30 * MINUTE]),
    )


def after(moment):
    """A moment 1 hour to 20 days after `moment`."""
    return st.integers(1, 20 * 24).map(lambda hours: moment + hours * HOUR)


def optional(strategy):
    return st.one_of(st.none(), strategy)


@st.composite
def scenario(draw) -> tuple[Facts, dt.datetime]:
    """A small random person's facts and a moment t. What is observed (labs, declarations,
    releases, case reports) lies at or before t; what is planned (tickets, orders, designations,
    border ports, events, associations) may lie after it."""
    t = BASE + draw(st.integers(10 * 24, 35 * 24)) * HOUR + draw(st.sampled_from([dt.timedelta(0), US, 30 * MINUTE]))
    counter = iter(range(1, 1000))

    def ids():
        return next(counter), draw(st.integers(1, 30))

    def before_t(moment):
        return min(moment, t)

    def span():
        arrived = draw(moments())
        departed = draw(optional(st.integers(1, 240).map(lambda h: arrived + h * HOUR)))
        return arrived, departed

    stays = []
    for _ in range(draw(st.integers(0, 4))):
        id_, ing = ids()
        arrived, departed = span()
        if draw(st.booleans()):
            stays.append(
                StayFact(
                    id=id_,
                    ingestion_id=ing,
                    source="telecom",
                    area_code=RISK_CITY,
                    city_code=RISK_CITY,
                    precision="city",
                    arrived_at=arrived,
                    departed_at=departed,
                    phone_hash=draw(st.sampled_from(["phone-1", "phone-2"])),
                )
            )
        else:
            area = draw(st.sampled_from(COUNTIES))
            stays.append(
                StayFact(
                    id=id_,
                    ingestion_id=ing,
                    source=draw(st.sampled_from(["rail", "hotel", "checkpoint"])),
                    area_code=area,
                    city_code=city_of(area),
                    precision="county",
                    arrived_at=arrived,
                    departed_at=departed,
                    refunded=draw(st.booleans()) and draw(st.booleans()),
                )
            )
    phones = []
    for number in ("phone-1", "phone-2"):
        if draw(st.booleans()):
            bound_at = draw(moments())
            phones.append(PhoneFact(number, bound_at, draw(optional(after(bound_at)))))
    designations = []
    for _ in range(draw(st.integers(0, 4))):
        id_, ing = ids()
        area = draw(st.sampled_from(COUNTIES))
        designations.append(
            DesignationFact(
                id=id_,
                ingestion_id=ing,
                area_code=area,
                city_code=city_of(area),
                level=draw(st.sampled_from(["low", "medium", "high"])),
                effective_from=draw(moments()),
            )
        )
    local_cases = []
    for _ in range(draw(st.integers(0, 2))):
        id_, ing = ids()
        reported = min(local_date(draw(moments())), local_date(t))
        local_cases.append(LocalCaseFact(id_, ing, draw(st.sampled_from(COUNTIES)), reported))
    border_ports = []
    if draw(st.booleans()):
        id_, ing = ids()
        starts = draw(st.one_of(st.just(BASE), moments()))
        ends = draw(optional(after(starts)))
        border_ports.append(BorderPortFact(id_, ing, OTHER_COUNTY, starts, ends))
    labs = []
    for _ in range(draw(st.integers(0, 2))):
        id_, ing = ids()
        labs.append(LabFact(id_, ing, before_t(draw(moments())), draw(st.sampled_from(["negative", "positive"]))))
    events = []
    for _ in range(draw(st.integers(0, 2))):
        id_, ing = ids()
        kind, detail = draw(st.sampled_from(EVENTS))
        events.append(EventFact(id_, ing, kind, draw(moments()), detail))
    arrivals = []
    if draw(st.booleans()):
        id_, ing = ids()
        entered = draw(moments())
        arrivals.append(ArrivalFact(id_, ing, entered, draw(optional(after(entered)))))
    orders = []
    for _ in range(draw(st.integers(0, 2))):
        id_, ing = ids()
        starts = draw(moments())
        ended = draw(optional(after(starts)))
        orders.append(
            OrderFact(
                id_,
                ing,
                draw(st.sampled_from(["centralized", "home"])),
                starts,
                draw(optional(after(starts))),
                ended if ended is None or ended <= t else None,  # ending an order is recorded when done
            )
        )
    associations = []
    if draw(st.booleans()):
        id_, ing = ids()
        associations.append(
            AssociationFact(id_, ing, draw(st.sampled_from(["epidemiological", "venue_scan"])), draw(moments()))
        )
    declarations = []
    if draw(st.booleans()):
        id_, ing = ids()
        places = []
        for _ in range(draw(st.integers(0, 2))):
            area = draw(st.sampled_from(COUNTIES))
            arrived, departed = span()
            places.append(PlaceFact(area, city_of(area), arrived, departed))
        declarations.append(
            DeclarationFact(
                id=id_,
                ingestion_id=ing,
                source=draw(st.sampled_from(["declared", "hotel"])),
                submitted_at=before_t(draw(moments())),
                entered_beijing_at=draw(optional(moments())),
                places=tuple(places),
            )
        )
    releases = []
    if draw(st.booleans()):
        releases.append(
            ReleaseFact(
                id=next(counter),
                popup_number=draw(st.sampled_from([3, 3, 1])),
                watermark=draw(st.integers(0, 30)),
                created_at=before_t(draw(moments())),
            )
        )
    return (
        Facts(
            stays=tuple(stays),
            phones=tuple(phones),
            designations=tuple(designations),
            local_cases=tuple(local_cases),
            border_ports=tuple(border_ports),
            labs=tuple(labs),
            events=tuple(events),
            arrivals=tuple(arrivals),
            orders=tuple(orders),
            associations=tuple(associations),
            declarations=tuple(declarations),
            releases=tuple(releases),
        ),
        t,
    )


def answer(result):
    """What a person is told: state, popups (number, since, how and when it clears), which rules
    fired and after which release, and which popups a release holds back."""
    return (
        result.state,
        result.popups,
        sorted((r.rule, r.popup or 0, r.state or "", r.after_release or 0) for r in result.reasons),
        result.released,
    )


# Found by these properties: a popup ① with two reports whose older one ages out at 00:00 on May 15,
# before the next change the engine announces (May 16); the popup's `since` moves from May 1 to May 2.
AGEING_REPORT = (
    facts(
        stay(OTHER_COUNTY, at(2022, 4, 30)),
        LocalCaseFact(1, 1, OTHER_COUNTY, dt.date(2022, 5, 1)),
        LocalCaseFact(2, 2, OTHER_COUNTY, dt.date(2022, 5, 2)),
    ),
    at(2022, 5, 11, 9),
)


@PROPERTY_SETTINGS
@given(scenario())
def test_it_gives_the_same_answer_for_the_same_facts_and_moment(case):
    f, t = case
    first, second = evaluate(f, t), evaluate(f, t)

    assert first == second
    assert [r.as_json() for r in first.reasons] == [r.as_json() for r in second.reasons]
    assert [p.as_json() for p in first.popups] == [p.as_json() for p in second.popups]


@PROPERTY_SETTINGS
@given(moments())
def test_it_is_green_with_no_popups_and_no_reasons_without_evidence(t):
    result = evaluate(Facts(), t)

    assert is_green(result)
    assert result.next_change_at is None
    assert result.released == ()


@PROPERTY_SETTINGS
@given(moments(), st.integers(0, 3))
def test_it_is_green_with_only_harmless_facts(t, n):
    harmless = [stay(OTHER_COUNTY, t - (n + 2) * DAY, t - DAY) for _ in range(n)]
    harmless += [lab(t - HOUR), order("home", t - 10 * DAY, ended_at=t - DAY)]
    harmless += [arrival(t - 40 * DAY), association(t - 15 * DAY)]

    assert is_green(evaluate(facts(*harmless), t))


@PROPERTY_SETTINGS
@given(scenario())
def test_it_follows_the_precedence_red_yellow_popup_green(case):
    f, t = case
    result = evaluate(f, t)
    states = {r.state for r in result.reasons}

    if "red" in states:
        assert result.state == "red"
    elif "yellow" in states:
        assert result.state == "yellow"
    elif result.popups:
        assert result.state == "popup"
    else:
        assert result.state == "green"


@PROPERTY_SETTINGS
@given(scenario())
def test_it_gives_every_popup_and_colour_its_reasons(case):
    f, t = case
    result = evaluate(f, t)

    assert {p.number for p in result.popups} == {r.popup for r in result.reasons if r.popup is not None}
    assert not set(result.released) & {p.number for p in result.popups}
    for reason in result.reasons:
        assert reason.evidence
        assert reason.summary
        assert reason.clears
    if result.state in ("red", "yellow"):
        assert any(r.state == result.state for r in result.reasons)


@PROPERTY_SETTINGS
@given(scenario())
def test_it_says_valid_until_is_the_earlier_of_next_change_and_the_next_local_midnight(case):
    f, t = case
    result = evaluate(f, t)

    assert result.next_change_at is None or result.next_change_at > t
    midnight = next_local_midnight(t)
    assert result.valid_until == (midnight if result.next_change_at is None else min(midnight, result.next_change_at))
    assert result.valid_until > t


@PROPERTY_SETTINGS
@given(scenario())
@example(AGEING_REPORT)
def test_nothing_changes_before_next_change_at(case):
    f, t = case
    result = evaluate(f, t)
    later = (t + 60 * DAY) if result.next_change_at is None else result.next_change_at - US

    assert answer(evaluate(f, later)) == answer(result)


@PROPERTY_SETTINGS
@given(scenario(), st.floats(0, 1))
@example(AGEING_REPORT, 0.9)
def test_nothing_changes_anywhere_between_t_and_next_change_at(case, fraction):
    f, t = case
    result = evaluate(f, t)
    end = (t + 60 * DAY) if result.next_change_at is None else result.next_change_at - US
    between = t + (end - t) * fraction

    assert answer(evaluate(f, between)) == answer(result)


# valid_until by example


def test_valid_until_is_the_next_local_midnight_when_nothing_changes_sooner():
    t = at(2022, 5, 20, 15)
    result = evaluate(facts(order("home", t - DAY)), t)

    assert result.next_change_at is None
    assert result.valid_until == at(2022, 5, 21)


def test_valid_until_is_the_next_midnight_even_for_an_evaluation_at_midnight():
    result = evaluate(Facts(), at(2022, 5, 20))

    assert result.valid_until == at(2022, 5, 21)


def test_valid_until_is_next_change_at_when_that_comes_before_midnight():
    t = at(2022, 5, 20, 15)
    result = evaluate(facts(order("home", t - DAY, ends_at=t + 2 * HOUR)), t)

    assert result.next_change_at == t + 2 * HOUR
    assert result.valid_until == t + 2 * HOUR


def test_valid_until_is_midnight_when_next_change_at_comes_later():
    t = at(2022, 5, 20, 15)
    result = evaluate(facts(order("home", t - DAY, ends_at=t + 3 * DAY)), t)

    assert result.next_change_at == t + 3 * DAY
    assert result.valid_until == at(2022, 5, 21)


def test_valid_until_is_reckoned_in_local_time_for_a_moment_given_in_utc():
    t = dt.datetime(2022, 5, 20, 17, 0, tzinfo=dt.UTC)  # 01:00 on the 21st in Beijing
    result = evaluate(Facts(), t)

    assert result.valid_until == at(2022, 5, 22)


def test_a_new_policy_version_is_a_next_change():
    t = at(2022, 5, 20, 15)
    result = evaluate(facts(arrival(t - DAY), next_policy_at=t + HOUR), t)

    assert result.next_change_at == t + HOUR
    assert result.valid_until == t + HOUR
