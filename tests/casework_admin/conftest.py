"""Personas and cases of the casework admin tests: staff logged into the admin (the personas of
tests/personas.py), and residents of communities CA and CB with popup ③."""

import pytest
import time_machine
from django.test import Client

from apps.accounts.models import User
from apps.people.models import Person
from tests.api.helpers import RISK_COUNTY, at, iso, rid, stay

T0 = at(2021, 7, 28, 10)  # "now" of most tests: the day the county turned medium risk
WANG = rid("11010519900101123")
LI = rid("11010519851231004")
ZHAO = rid("11010519700615005")  # lives in community CB
REASON = "已电话核实14天行程，查验核酸阴性，已签承诺书"
CHECKED = {"itinerary_verified": "on", "nat_negative": "on", "commitment_signed": "on"}


def admin_client(username: str) -> Client:
    """A browser session of a staff user logged into the admin (no superuser)."""
    user = User.objects.get(username=username)
    assert user.is_staff and not user.is_superuser
    c = Client()
    c.force_login(user)
    return c


def flag(world, idn, ext, community, name="王小明"):
    """A resident of `community` with a stay in the medium-risk county: popup ③."""
    ref = world.person(idn, name=name, community=community)
    world.feed("stays", stay(idn, ext, RISK_COUNTY, iso(2021, 7, 20, 8), iso(2021, 7, 22, 8)))
    return Person.objects.get(ref=ref)


@pytest.fixture
def case(world):
    """Two residents of CA and one of CB with popup ③, and an auditor (auditor_1) and a hotline
    operator (op_1) besides the `world` personas."""
    with time_machine.travel(at(2021, 7, 28, 9), tick=False):
        world.personas.build("auditor_1", "op_1")
        world.wang = flag(world, WANG, "G1", "CA")
        world.li = flag(world, LI, "G2", "CA", name="李四")
        world.zhao = flag(world, ZHAO, "G3", "CB", name="赵六")
        world.designate(RISK_COUNTY, "medium", iso(2021, 7, 28, 0))
        for idn in (WANG, LI, ZHAO):
            assert [p["number"] for p in world.status(idn)["popups"]] == [3]
    return world


def appeal(person, org_code: str, due, number: str, opened_by="op_1"):
    """An appeal routed to `org_code` (written directly: the appeals workflow is not under test)."""
    from apps.accounts.models import Organisation
    from apps.appeals.models import Appeal

    return Appeal.objects.create(
        tracking_number=number,
        person=person,
        channel="12345",
        category="wrongly_flagged",
        description="认为弹窗是误伤",
        status="routed",
        routed_to=Organisation.objects.get(code=org_code),
        due_at=due,
        opened_by=User.objects.get(username=opened_by),
    )


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller
