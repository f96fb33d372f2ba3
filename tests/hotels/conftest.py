"""Personas of the hotel tests, on top of `world`: a second hotel in the same district, a hotel in
another district, and the culture-and-tourism officers of both districts."""

import pytest
import time_machine

from tests.api.helpers import at, client, last_line

HAIDIAN = "110108"


@pytest.fixture
def hotels(world):
    with time_machine.travel(at(2021, 7, 1, 9), tick=False):
        last_line("create_org", "H2", "--kind", "hotel", "--name", "第二酒店", "--parent", "D105", "--area", "110105")
        last_line("create_org", "D108", "--kind", "district", "--name", "海淀区", "--area", HAIDIAN)
        last_line("create_org", "H3", "--kind", "hotel", "--name", "海淀酒店", "--parent", "D108", "--area", HAIDIAN)
        last_line("create_org", "TB105", "--kind", "tourism_bureau", "--name", "朝阳区文旅局", "--area", "110105")
        last_line("create_org", "TB108", "--kind", "tourism_bureau", "--name", "海淀区文旅局", "--area", HAIDIAN)
        world.hotel2 = client(last_line("create_staff", "hotel_2", "--role", "hotel_staff", "--org", "H2"))
        world.hotel3 = client(last_line("create_staff", "hotel_3", "--role", "hotel_staff", "--org", "H3"))
        world.officer = client(last_line("create_staff", "officer_1", "--role", "tourism_officer", "--org", "TB105"))
        world.officer2 = client(last_line("create_staff", "officer_2", "--role", "tourism_officer", "--org", "TB108"))
    return world
