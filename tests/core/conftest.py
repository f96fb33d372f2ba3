"""The areas the demo names: the real, complete divisions when `load_areas` is installed, else
just the few rows the demo needs (province → city → county)."""

import io

import pytest
from django.core.management import call_command, get_commands

from apps.areas.models import Area

# code: (name, level, parent)
DEMO_AREAS = {
    "110000": ("北京市", "province", None),
    "110100": ("市辖区", "city", "110000"),
    "110105": ("朝阳区", "county", "110100"),
    "110108": ("海淀区", "county", "110100"),
    "120000": ("天津市", "province", None),
    "120100": ("市辖区", "city", "120000"),
    "120101": ("和平区", "county", "120100"),
    "130000": ("河北省", "province", None),
    "130600": ("保定市", "city", "130000"),
    "130602": ("竞秀区", "county", "130600"),
    "310000": ("上海市", "province", None),
    "310100": ("市辖区", "city", "310000"),
    "310101": ("黄浦区", "county", "310100"),
    "320000": ("江苏省", "province", None),
    "321000": ("扬州市", "city", "320000"),
    "321003": ("邗江区", "county", "321000"),
    "330000": ("浙江省", "province", None),
    "330100": ("杭州市", "city", "330000"),
    "330106": ("西湖区", "county", "330100"),
    "370000": ("山东省", "province", None),
    "370100": ("济南市", "city", "370000"),
    "370102": ("历下区", "county", "370100"),
    "420000": ("湖北省", "province", None),
    "420100": ("武汉市", "city", "420000"),
    "420106": ("武昌区", "county", "420100"),
    "440000": ("广东省", "province", None),
    "440300": ("深圳市", "city", "440000"),
    "440305": ("南山区", "county", "440300"),
    "510000": ("四川省", "province", None),
    "510100": ("成都市", "city", "510000"),
    "510107": ("武侯区", "county", "510100"),
    "530000": ("云南省", "province", None),
    "533100": ("德宏傣族景颇族自治州", "city", "530000"),
    "533102": ("瑞丽市", "county", "533100"),
}


def areas_ensure() -> None:
    if "load_areas" in get_commands():
        call_command("load_areas", stdout=io.StringIO())
        return
    for code, (name, level, parent) in DEMO_AREAS.items():
        province = code[:2] + "0000"
        city = None if level == "province" else (code if level == "city" else parent)
        Area.objects.create(
            code=code,
            name=name,
            full_name=name,
            level=level,
            parent_id=parent,
            city_id=city,
            province_id=province if level != "province" else None,
        )


@pytest.fixture
def areas(db):
    areas_ensure()
