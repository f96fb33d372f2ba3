"""Personas of the hotel tests, on top of `world`: a second hotel in the same district, a hotel in
another district, and the culture-and-tourism officers of both districts."""

import pytest


@pytest.fixture
def hotels(world):
    world.hotel2 = world.personas.client("hotel_2")  # H2, in the same district as H1
    world.hotel3 = world.personas.client("hotel_3")  # H3, in 海淀区 (D108)
    world.officer = world.personas.client("officer_1")  # 朝阳区's bureau (TB105)
    world.officer2 = world.personas.client("officer_2")  # 海淀区's bureau (TB108)
    return world
