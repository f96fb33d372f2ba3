"""The staff of the login tests: the `world` personas plus an auditor, a hotline operator and a
superuser, every one with the personas' password, under a clock that stands still. (The areas the
account commands name are the country's divisions, loaded once per test database.)"""

import pytest
import time_machine

from apps.accounts.models import User
from tests.api.helpers import at
from tests.personas import PASSWORD

__all__ = ["PASSWORD", "T0", "with_password"]

T0 = at(2021, 7, 28, 10)


def with_password(username: str, password: str = PASSWORD) -> User:
    """Give an existing user a password to log in with (a user made outside the personas)."""
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
    """The `world` personas plus an auditor (auditor_1), a hotline operator (op_1) and a superuser
    (root), every one of them with the password PASSWORD."""
    world.personas.build("auditor_1", "op_1")
    world.personas.superuser()
    return world
