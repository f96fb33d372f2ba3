"""Personas of the appeal tests, on top of `world`: two hotline centres with an operator each, a
second CDC organisation (routing picks the CDC with the smallest code), and a person with popup ③."""

import pytest
import time_machine

from tests.api.helpers import RISK_COUNTY, at, client, iso, last_line, rid, stay

RESIDENT = rid("11010519900101123")  # lives in community CA
TRAVELLER = rid("32100319850101002")  # no community in Beijing


@pytest.fixture
def hotline(world):
    with time_machine.travel(at(2021, 7, 1, 9), tick=False):
        last_line("create_org", "HL12345", "--kind", "hotline", "--name", "12345")
        last_line("create_org", "HL12306", "--kind", "hotline", "--name", "12306")
        last_line("create_org", "CDC-B", "--kind", "cdc", "--name", "区疾控")
        world.op = client(last_line("create_staff", "op_1", "--role", "hotline_operator", "--org", "HL12345"))
        world.op2 = client(last_line("create_staff", "op_2", "--role", "hotline_operator", "--org", "HL12306"))
        world.auditor = client(last_line("create_staff", "auditor_1", "--role", "auditor", "--org", "CDC"))
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
