"""`areas_load` / `manage.py load_areas`: the complete national divisions of SPEC §6."""

import csv
import io

import pytest
from django.core.management import call_command

from apps.areas.models import Area
from apps.areas.services import DIVISIONS_CSV, areas_load

pytestmark = pytest.mark.django_db


def file_count(level: str) -> int:
    with DIVISIONS_CSV.open(encoding="utf-8", newline="") as f:
        return sum(1 for row in csv.DictReader(f) if row["level"] == level)


def run_command() -> list[str]:
    out = io.StringIO()
    call_command("load_areas", stdout=out, stderr=io.StringIO())
    return out.getvalue().splitlines()


@pytest.fixture
def loaded(no_areas):
    """The divisions loaded into an empty table (they are loaded once per test database)."""
    return areas_load()


def test_it_loads_34_provincial_level_divisions(loaded):
    assert loaded["province"] == 34
    assert Area.objects.filter(level="province").count() == 34
    assert Area.objects.filter(level="province", code__in=["710000", "810000", "820000"]).count() == 3


def test_it_puts_beijings_16_districts_under_110100(loaded):
    districts = Area.objects.filter(parent_id="110100")
    assert districts.count() == 16
    assert set(districts.values_list("level", "city_id", "province_id")) == {("county", "110100", "110000")}
    assert Area.objects.get(code="110100").parent_id == "110000"
    assert Area.objects.get(code="110105").full_name == "北京市 朝阳区"


def test_it_loads_every_county_of_the_file(loaded):
    counties = Area.objects.filter(level="county").count()
    assert counties == file_count("county") == loaded["county"]
    assert 2800 <= counties <= 2900
    assert not Area.objects.filter(level="county", city__isnull=True).exists()
    assert not Area.objects.filter(level="county", province__isnull=True).exists()


def test_it_makes_every_city_its_own_city(loaded):
    cities = Area.objects.filter(level="city")
    assert cities.count() == file_count("city") == loaded["city"]
    assert all(code == city for code, city in cities.values_list("code", "city_id"))


# code: (level, parent, city, acts_as_county); a provincial-level parent is also the province.
SPECIAL_CODES = {
    "110100": ("city", "110000", "110100", False),
    "120100": ("city", "120000", "120100", False),
    "310100": ("city", "310000", "310100", False),
    "500100": ("city", "500000", "500100", False),
    "500200": ("city", "500000", "500200", False),
    # county-level cities run directly by a province are their own city
    "429004": ("county", "420000", "429004", False),
    "419001": ("county", "410000", "419001", False),
    "469001": ("county", "460000", "469001", False),
    # prefecture cities without counties act as their own county
    "441900": ("city", "440000", "441900", True),
    "442000": ("city", "440000", "442000", True),
    "620200": ("city", "620000", "620200", True),
    "460400": ("city", "460000", "460400", True),
}


def test_it_loads_the_special_codes_of_spec_6(loaded):
    areas = Area.objects.in_bulk(list(SPECIAL_CODES))
    found = {code: (a.level, a.parent_id, a.city_id, a.acts_as_county) for code, a in areas.items()}
    assert found == SPECIAL_CODES
    assert all(
        a.province_id == a.parent_id and a.is_county_like == (a.level == "county" or a.acts_as_county)
        for a in areas.values()
    )


def test_it_files_chongqings_districts_and_counties_under_their_city_codes(loaded):
    assert Area.objects.get(code="500101").parent_id == "500100"  # 万州区
    assert Area.objects.get(code="500229").parent_id == "500200"  # 城口县
    assert Area.objects.get(code="500229").full_name == "重庆市 城口县"


def test_it_places_counties_in_their_cities(loaded):
    hanjiang = Area.objects.get(code="321003")
    assert (hanjiang.name, hanjiang.city_id, hanjiang.province_id) == ("邗江区", "321000", "320000")
    assert hanjiang.full_name == "江苏省 扬州市 邗江区"
    assert Area.objects.get(code="533102").name == "瑞丽市"
    assert Area.objects.get(code="320115").name == "江宁区"
    assert Area.objects.get(code="441900").full_name == "广东省 东莞市"


def test_it_creates_nothing_when_run_again(loaded):
    before = Area.objects.count()
    again = areas_load()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, before)
    assert Area.objects.count() == before == loaded["total"]


def test_it_updates_changed_rows_and_keeps_unknown_codes(loaded):
    Area.objects.filter(code="321003").update(name="旧名", full_name="旧名")
    Area.objects.create(code="999901", name="废止县", full_name="废止县", level="county")
    again = areas_load()
    assert (again["created"], again["updated"], again["not_in_file"]) == (0, 1, 1)
    assert Area.objects.get(code="321003").full_name == "江苏省 扬州市 邗江区"
    assert Area.objects.filter(code="999901").exists()


def test_it_prints_the_total_on_the_last_line(no_areas):
    first = run_command()
    assert first[-1] == str(Area.objects.count())
    assert first[-1] == str(34 + file_count("city") + file_count("county"))
    again = run_command()
    assert again[-1] == first[-1]
    assert Area.objects.count() == int(again[-1])
