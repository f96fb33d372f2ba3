"""Fixtures shared by the whole suite. The API personas (`world`) serve the API, casework and access tests."""

import io

import pytest
import time_machine
from django.core.management import call_command

from tests.api.helpers import CHAOYANG, World, at, client, last_line


@pytest.fixture(autouse=True)
def _media_in_tmp_path(settings, tmp_path):
    """Uploaded files (release attachments, imports) land in a per-test directory, never in media/."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _empty_cache():
    """Every test starts with no rate-limit counters (apps.accounts.throttling) and no lock-outs."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def world(db):
    """Personas: a loaded country, two communities of 朝阳区, a hotel, the CDC, partners and staff."""
    with time_machine.travel(at(2021, 7, 1, 9), tick=False):
        call_command("load_areas", stdout=io.StringIO())
        last_line("create_org", "D105", "--kind", "district", "--name", "朝阳区", "--area", CHAOYANG)
        last_line(
            "create_org", "CA", "--kind", "community", "--name", "水岸家园社区", "--parent", "D105", "--area", CHAOYANG
        )
        last_line(
            "create_org", "CB", "--kind", "community", "--name", "另一社区", "--parent", "D105", "--area", CHAOYANG
        )
        last_line("create_org", "H1", "--kind", "hotel", "--name", "测试酒店", "--parent", "D105", "--area", CHAOYANG)
        last_line("create_org", "CDC", "--kind", "cdc", "--name", "市疾控")
        w = World()
        w.feeds = client(last_line("create_partner", "feeds-partner", "--scopes", "feeds"))
        w.gate = client(last_line("create_partner", "gateway", "--scopes", "status"))
        w.wa = client(last_line("create_staff", "worker_a", "--role", "community_worker", "--org", "CA"))
        w.wb = client(last_line("create_staff", "worker_b", "--role", "community_worker", "--org", "CB"))
        w.hotel = client(last_line("create_staff", "hotel_1", "--role", "hotel_staff", "--org", "H1"))
        w.policy = client(last_line("create_staff", "policy_1", "--role", "policy_admin", "--org", "CDC"))
        w.cdc = client(last_line("create_staff", "cdc_1", "--role", "cdc_officer", "--org", "CDC"))
    return w


@pytest.fixture
def portal_login(client):
    """Log in through the admin's login form, as a person does (the lock-out and the second
    factor see it; `client.login` would bypass both). True when the password was accepted."""

    def login(username: str, password: str) -> bool:
        response = client.post("/admin/login/", {"username": username, "password": password})
        return response.status_code == 302

    return login
