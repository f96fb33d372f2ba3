"""Personas of the appeal tests, on top of `world`: the operators of two hotline centres (op_1 of
12345, op_2 of 12306), an auditor, a second CDC organisation (CDC-B: routing picks the CDC with the
smallest code), and persons with popup ③."""

import pytest
import time_machine

from tests.api.helpers import RISK_COUNTY, at, iso, rid, stay

RESIDENT = rid("11010519900101123")  # lives in community CA
TRAVELLER = rid("32100319850101002")  # no community in Beijing


@pytest.fixture
def hotline(world):
    world.personas.build("CDC-B")
    world.op = world.personas.client("op_1")  # the 12345 centre
    world.op2 = world.personas.client("op_2")  # the 12306 centre
    world.auditor = world.personas.client("auditor_1")
    return world


@pytest.fixture
def flagged(hotline):
    """A resident of CA and a traveller without a community, both with popup ③ (a stay in a county
    designated medium after they left)."""
    w = hotline
    with time_machine.travel(at(2021, 8, 16, 9), tick=False):
        w.resident = w.person(RESIDENT, community="CA")
        w.traveller = w.person(TRAVELLER, name="欧阳娜娜")
        w.feed(
            "stays",
            stay(RESIDENT, "G1", RISK_COUNTY, iso(2021, 8, 10, 8), iso(2021, 8, 11, 8)),
            stay(TRAVELLER, "G2", RISK_COUNTY, iso(2021, 8, 10, 8), iso(2021, 8, 11, 8)),
        )
        w.designate(RISK_COUNTY, "medium", iso(2021, 8, 15, 0))
        assert [p["number"] for p in w.status(RESIDENT)["popups"]] == [3]
    return w


def appeal_body(idn=RESIDENT, category="wrongly_flagged", channel="12345", **extra):
    body = {
        "person": {"id_type": "resident_id", "id_number": idn},
        "channel": channel,
        "category": category,
        "description": "来电人称14天内未去过中高风险地区，健康宝弹窗③",
        "caller_phone": "13812345678",
    }
    body.update(extra)
    return body
