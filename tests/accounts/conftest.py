"""Areas for the account commands (the real divisions when `load_areas` is installed, else the two
demo districts of Beijing), and the staff of the login tests: the `world` personas with passwords,
plus an auditor, a hotline operator and a superuser, under a clock that stands still."""

import io

import pytest
import time_machine
from django.core.management import call_command, get_commands

from apps.accounts.models import User
from apps.areas.models import Area
from tests.api.helpers import at, last_line


@pytest.fixture
def areas(db):
    if "load_areas" in get_commands():
        call_command("load_areas", stdout=io.StringIO())
        return
    Area.objects.create(code="110000", name="北京市", full_name="北京市", level="province")
    Area.objects.create(code="110100", name="市辖区", full_name="北京市", level="city", parent_id="110000")
    for code, name in (("110105", "朝阳区"), ("110108", "海淀区")):
        Area.objects.create(
            code=code, name=name, full_name=f"北京市{name}", level="county", parent_id="110100", city_id="110100"
        )


# --- staff who log in through the portal's login form (lock-out, second factor, sessions) --------

PASSWORD = "correct-horse-battery-9"
T0 = at(2021, 7, 28, 10)


def with_password(username: str, password: str = PASSWORD) -> User:
    """Give an existing staff user a password to log in with (the commands make token-only users)."""
    user = User.objects.get(username=username)
    user.set_password(password)
    user.save(update_fields=["password"])
    return user


@pytest.fixture
def clock():
    """The clock stands still at T0 unless a test moves it (lock-out cool-off, TOTP steps, idle)."""
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def staff(world, clock):
    """The `world` personas plus an auditor, a hotline operator and a superuser, every one of them
    with the password PASSWORD."""
    last_line("create_staff", "auditor_1", "--role", "auditor", "--org", "CDC")
    last_line("create_org", "HL", "--kind", "hotline", "--name", "12345热线")
    last_line("create_staff", "hotline_1", "--role", "hotline_operator", "--org", "HL")
    User.objects.create_superuser("root", email="root@example.org", password=PASSWORD)
    for username in ("worker_a", "worker_b", "cdc_1", "hotel_1", "policy_1", "auditor_1", "hotline_1"):
        with_password(username)
    return world
