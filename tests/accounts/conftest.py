"""Areas for the account commands: the real divisions when `load_areas` is installed, else the
two demo districts of Beijing."""

import io

import pytest
from django.core.management import call_command, get_commands

from apps.areas.models import Area


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
