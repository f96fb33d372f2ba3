"""One definition per popup: each rule module declares its popup, the registry collects them, and
the engine, the status API, the queue and the admin read it; titles take the policy in force and
reasons are codes rendered in the reader's language."""

import dataclasses
import pathlib

import pytest
import time_machine
from django.utils import translation

from apps.casework import selectors as casework_selectors
from apps.policy.selectors import Policy, policy_at
from apps.status.choices import PRECEDENCE, State, strongest
from apps.status.engine import registry
from apps.status.engine.evaluate import evaluate
from apps.status.engine.rules import colours
from apps.status.engine.texts import render
from apps.status.models import PersonStatus, Popup
from apps.status.presentation import reason_shown
from tests.api.helpers import BORDER_COUNTY, at, iso, rid, stay
from tests.status.engine_builders import DAY, HOUR, RISK_COUNTY, designation, event, facts, release
from tests.status.engine_builders import at as local
from tests.status.engine_builders import stay as stay_fact


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts and ends in the default language (a request asking for English leaves
    English active in the thread)."""
    translation.deactivate()
    yield
    translation.deactivate()


RULES_DIR = pathlib.Path(registry.__file__).parent / "rules"
IDN = rid("11010519900101123")
NOW = local(2021, 7, 28, 9)


# --- the registry ------------------------------------------------------------------------------


def test_every_popup_rule_module_is_registered_with_its_own_number():
    files = sorted(p.stem for p in RULES_DIR.glob("popup*_*.py"))
    assert len(files) == 5
    assert sorted(m.__name__.rsplit(".", 1)[1] for m in registry.MODULES.values()) == files
    for number, module in registry.MODULES.items():
        assert module.POPUP is registry.popup(number)
        assert module.__name__.rsplit(".", 1)[1].startswith(f"popup{number}_"), "the file names its number"
    # Every rule the engine runs: the popups' in number order, then the colours.
    assert registry.RULES == (*registry.MODULES.values(), colours)


def test_the_numbers_are_one_to_five_each_once_with_their_circled_labels_and_keys():
    assert registry.numbers() == (1, 2, 3, 4, 5)
    assert [d.number for d in registry.POPUPS.values()] == [1, 2, 3, 4, 5]
    assert [d.circled for d in registry.POPUPS.values()] == ["①", "②", "③", "④", "⑤"]
    assert len({d.key for d in registry.POPUPS.values()}) == 5
    assert registry.popup(3).key == "risk_area"
    with pytest.raises(KeyError):
        registry.popup(6)
    assert registry.circled(6) == "⑥" and registry.circled("x") == "x"


def test_the_model_field_choices_come_from_the_registry():
    assert Popup._meta.get_field("number").choices == registry.number_choices() == [(n, str(n)) for n in range(1, 6)]


def test_only_popup_3_is_released_by_hand_and_queued_and_the_queue_reads_the_registry():
    assert registry.manual_numbers() == {3}
    assert registry.queued_numbers() == (3,)
    assert casework_selectors.QUEUE_POPUPS == registry.queued_numbers()
    assert casework_selectors.QUEUE_LABEL == "③"
    assert [d.clears for d in registry.POPUPS.values()] == ["auto", "auto", "manual_or_auto", "auto", "auto"]


def _popup3_evidence():
    return [
        stay_fact(RISK_COUNTY, NOW - 3 * DAY, NOW - 2 * DAY, id=601, ingestion_id=10),
        designation(RISK_COUNTY, "high", NOW - DAY, id=501, ingestion_id=5),
    ]


def _popup3_facts():
    return facts(*_popup3_evidence())


def test_the_engine_takes_how_a_popup_clears_from_its_definition(monkeypatch):
    [state] = evaluate(_popup3_facts(), NOW).popups
    assert (state.number, state.clears) == (3, "manual_or_auto")
    monkeypatch.setitem(registry.POPUPS, 3, dataclasses.replace(registry.popup(3), released_manually=False))
    [state] = evaluate(_popup3_facts(), NOW).popups
    assert state.clears == "auto"


def test_a_popup_no_definition_declares_is_not_raised(monkeypatch):
    monkeypatch.delitem(registry.POPUPS, 3)
    result = evaluate(_popup3_facts(), NOW)
    assert result.popups == () and result.state == "green"


def test_precedence_is_defined_once_red_over_yellow_over_popup_over_green():
    assert sorted(State, key=PRECEDENCE.__getitem__) == [State.GREEN, State.POPUP, State.YELLOW, State.RED]
    assert strongest([]) == "green"
    assert strongest(["popup", "yellow"]) == "yellow"
    assert strongest(["red", "popup", "yellow"]) == "red"
    assert type(strongest(["popup"])) is str


# --- titles and guidance take the policy ----------------------------------------------------------


def test_a_title_takes_the_look_back_window_of_the_policy_it_is_given():
    title = registry.popup(1).heading(dict(registry.popup(1).params_from(Policy(lookback_days=10))))
    assert title == "弹窗①：近10天到过有本土病例的县区"
    assert registry.popup(5).policy_params == ("lookback_days",)
    assert registry.popup(2).policy_params == ()
    with translation.override("en"):
        title = registry.popup(5).heading({"lookback_days": 21})
        guidance = registry.popup(5).guidance_text({"lookback_days": 21})
    assert title == "Popup ⑤: Stayed in a land border port area in the last 21 days"
    assert guidance == "The popup clears automatically 21 days after you leave the port area."


@pytest.mark.django_db
def test_the_title_follows_a_new_policy_version_of_the_look_back_window(world):
    from apps.policy.models import PolicyVersion

    with time_machine.travel(at(2021, 8, 1, 9), tick=False):
        world.person(IDN)
        port = {"area_code": BORDER_COUNTY, "effective_from": iso(2021, 1, 1), "effective_to": None}
        assert world.policy.post("/api/v1/border-port-counties/", port, format="json").status_code == 201
        world.feed("stays", stay(IDN, "B1", BORDER_COUNTY, iso(2021, 7, 30, 8), None))
        [shown] = world.status(IDN)["popups"]
        assert shown["title"] == "弹窗⑤：近14天到过陆路边境口岸地区"
        assert shown["guidance"] == "离开口岸地区满14天后系统自动解除。"
        assert set(shown) == {"number", "title", "guidance", "since", "clears", "clears_at"}
        # A new policy version (through the policy API, which marks the statuses due at its start).
        r = world.policy.put("/api/v1/policy/", {"lookback_days": 21, "effective_from": iso(2021, 8, 5)}, format="json")
        assert r.status_code == 200, r.content
        assert PolicyVersion.objects.get().lookback_days == 21
        assert policy_at(at(2021, 8, 5)).lookback_days == 21
        assert world.status(IDN)["popups"][0]["title"] == "弹窗⑤：近14天到过陆路边境口岸地区", "not yet in force"
    with time_machine.travel(at(2021, 8, 5, 0, 1), tick=False):
        [shown] = world.status(IDN)["popups"]
        assert shown["title"] == "弹窗⑤：近21天到过陆路边境口岸地区"
        assert shown["guidance"] == "离开口岸地区满21天后系统自动解除。"
        english = world.gate.get(
            "/api/v1/status/", {"id_type": "resident_id", "id_number": IDN}, HTTP_ACCEPT_LANGUAGE="en"
        ).json()
        assert english["popups"][0]["title"] == "Popup ⑤: Stayed in a land border port area in the last 21 days"
        # A row stored before popups carried their parameters: the policy it was computed under.
        row = PersonStatus.objects.get()
        assert row.popups[0]["params"] == {"lookback_days": 21}
        PersonStatus.objects.filter(pk=row.pk).update(
            popups=[{k: v for k, v in row.popups[0].items() if k != "params"}]
        )
        assert world.status(IDN)["popups"][0]["title"] == "弹窗⑤：近21天到过陆路边境口岸地区"


# --- reasons: codes rendered when shown ------------------------------------------------------------


def _reason(result, rule):
    [reason] = [r for r in result.reasons if r.rule == rule]
    return reason


def test_a_reason_is_stored_as_codes_and_renders_in_chinese_by_default_and_english_on_request():
    result = evaluate(_popup3_facts(), NOW)
    stored = _reason(result, "popup3.risk_county_stay").as_json()
    assert stored["summary"]["code"] == "popup3.risk_county_stay"
    assert stored["summary"]["params"]["days"] == 14
    assert stored["summary"]["params"]["level"] == {"code": "level.high", "params": {}}
    shown = reason_shown(stored)
    assert shown["summary"] == "您近14天内到过321003（2021-07-25 09:00 至 2021-07-26 09:00），该地现为高风险地区。"
    assert shown["clears"] == "社区或疾控核实行程后人工解除；或相关记录超出14天后系统自动解除。"
    with translation.override("en"):
        shown = reason_shown(stored)
    assert shown["summary"] == (
        "In the last 14 days you were in 321003 (2021-07-25 09:00 to 2021-07-26 09:00), now a high risk area."
    )
    assert shown["clears"] == (
        "Released by the community or CDC after verifying the itinerary; or cleared automatically once the "
        "records are more than 14 days old."
    )


def test_the_reason_of_a_popup_raised_again_after_a_release_names_the_release_and_the_new_evidence():
    late = stay_fact(RISK_COUNTY, NOW - 2 * DAY, NOW - DAY, id=700, ingestion_id=11)
    result = evaluate(facts(*_popup3_evidence(), release(10, NOW - 3 * HOUR, 3, id=77), late), NOW)
    reasons = [r for r in result.reasons if r.rule == "popup3.risk_county_stay"]
    assert [r.after_release for r in reasons] == [77], "the stay learnt before the release stays released"
    [reason] = reasons
    summary = render(reason.summary.as_json())
    assert summary.endswith(
        f"（此前已于解除记录 #{reason.after_release} 人工解除；解除后新增证据：stay #700，再次弹窗。）"
    )
    with translation.override("en"):
        assert str(reason.summary).endswith(
            f"(released by hand in release #{reason.after_release}; new evidence since the release: stay #700, "
            "so the popup is raised again.)"
        )


def test_a_list_and_a_translated_label_inside_a_reason_follow_the_language():
    bought = event("drug_purchase", NOW - 80 * HOUR, detail="antipyretic")
    reason = _reason(evaluate(facts(bought), NOW), "popup4.untested_trigger")
    moment = "2021-07-25 01:00"
    assert str(reason.summary) == f"您{moment}购买退热类药品，72小时内未查到此后采样的核酸阴性结果。"
    with translation.override("en"):
        assert str(reason.summary) == (
            f"You bought antipyretic (退热) medicine at {moment}; no negative NAT sampled after that was found "
            "within 72 hours."
        )
    assert render(["a", "b", "c"]) == "a、b、c"
    with translation.override("en"):
        assert render(["a", "b", "c"]) == "a, b, c"


def test_a_reason_stored_as_a_sentence_or_with_an_unknown_code_still_shows():
    assert reason_shown({"rule": "x", "summary": "旧的原因。", "clears": "旧的解除方式。"})["summary"] == "旧的原因。"
    assert render({"code": "no.such.message", "params": {}}) == "no.such.message"
    assert render({"code": "popup5.border_port_county", "params": {"days": 14}}).endswith("…。")
