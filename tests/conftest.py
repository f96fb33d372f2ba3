"""Fixtures shared by the whole suite: the test database with the country's divisions loaded once,
the cast of tests/personas.py, and the API story's `world` built on it."""

import pytest
from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models.signals import post_migrate

from tests.api.helpers import World
from tests.personas import PASSWORD, Personas

# What `world` makes (the API tests' cast): two communities of 朝阳区, a hotel, the CDC, its policy
# administrator and officer, and the two partners that feed persons and look statuses up.
WORLD_CAST = (
    *("D105", "CA", "CB", "H1", "CDC"),
    *("feeds-partner", "gateway"),
    *("worker_a", "worker_b", "hotel_1", "policy_1", "cdc_1"),
)


def _areas_load() -> None:
    from apps.areas.services import areas_load

    areas_load()


def _areas_after_flush(sender, using=DEFAULT_DB_ALIAS, **kwargs) -> None:
    """A transactional test (`transaction=True`, `transactional_db`, `live_server`) ends with a
    flush of every table, then Django's post_migrate (which puts content types and permissions
    back): the divisions go back too, for the tests that follow."""
    if sender.label == "areas" and using == DEFAULT_DB_ALIAS:
        _areas_load()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database as pytest-django creates and migrates it, plus the national divisions
    (3,225 areas, `areas_load`) loaded once: every test sees them, and its own changes are rolled
    back around them (or, for a transactional test, flushed and the divisions loaded again)."""
    with django_db_blocker.unblock():
        _areas_load()
    post_migrate.connect(_areas_after_flush, weak=False, dispatch_uid="tests.areas_after_flush")
    yield
    post_migrate.disconnect(dispatch_uid="tests.areas_after_flush")


@pytest.fixture
def areas(db):
    """The national divisions: loaded once per test database (`django_db_setup` above)."""


@pytest.fixture
def no_areas(db):
    """No divisions at all, as before `load_areas` ran (the test's transaction puts them back)."""
    from apps.areas.models import Area

    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {connection.ops.quote_name(Area._meta.db_table)}")


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
def personas(db) -> Personas:
    """This test's cast (tests/personas.py), each persona made on first use."""
    return Personas()


@pytest.fixture
def world(personas) -> World:
    """The API story's cast: a loaded country, two communities of 朝阳区 (CA, CB), hotel H1, the CDC,
    partners and staff (`WORLD_CAST`), with an API client for each."""
    personas.build(*WORLD_CAST)
    w = World()
    w.personas = personas
    w.feeds = personas.client("feeds-partner")  # sends persons and evidence
    w.gate = personas.client("gateway")  # looks statuses up
    w.wa = personas.client("worker_a")  # community CA
    w.wb = personas.client("worker_b")  # community CB
    w.hotel = personas.client("hotel_1")  # hotel H1
    w.policy = personas.client("policy_1")  # policy administrator
    w.cdc = personas.client("cdc_1")  # CDC officer
    return w


@pytest.fixture
def portal_login(client):
    """Log in through the admin's login form, as a person does (the lock-out and the second
    factor see it; `client.login` would bypass both). True when the password was accepted."""

    def login(username: str, password: str = PASSWORD) -> bool:
        response = client.post("/admin/login/", {"username": username, "password": password})
        return response.status_code == 302

    return login
