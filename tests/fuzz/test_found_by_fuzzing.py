"""What the schema fuzzer found, pinned as plain examples so they stay fixed even where the fuzzer
would need luck to find them again (several were 500s on PostgreSQL only)."""

import pytest
import time_machine
from rest_framework.test import APIClient

from tests.api.helpers import RISK_COUNTY, iso

from .conftest import FUZZ_AT


def as_(world, who) -> APIClient:
    c = APIClient(raise_request_exception=False)
    c.credentials(HTTP_AUTHORIZATION="Token " + world.tokens[who])
    return c


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(FUZZ_AT, tick=True):
        yield


@pytest.mark.parametrize(
    "moment", ["0762-10-03T06:12:36+14:47", "1899-12-31T00:00:00+08:00", "2100-01-01T00:00:00+08:00"]
)
def test_it_refuses_a_time_out_of_range_instead_of_echoing_a_broken_timestamp(fuzz_world, db, moment):
    # Before 1901 Asia/Shanghai had the offset +08:05:43, which no RFC 3339 reader accepts.
    r = as_(fuzz_world, "policy").post(
        "/api/v1/risk-designations/",
        {"area_code": RISK_COUNTY, "level": "high", "effective_from": moment},
        format="json",
    )
    assert r.status_code == 400
    assert list(r.json()) == ["effective_from"]


def test_it_refuses_a_policy_window_that_would_overflow_dates(fuzz_world, db):
    r = as_(fuzz_world, "policy").put("/api/v1/policy/", {"lookback_days": 10**9}, format="json")
    assert r.status_code == 400
    assert list(r.json()) == ["lookback_days"]
    assert as_(fuzz_world, "policy").put("/api/v1/policy/", {"lookback_days": 21}, format="json").status_code == 200


def test_the_policy_in_force_without_any_version_has_no_effective_from(fuzz_world, db):
    body = as_(fuzz_world, "cdc").get("/api/v1/policy/").json()
    assert body["effective_from"] is None and body["version"] is None and body["lookback_days"] == 14


def test_the_current_guests_come_as_a_page(fuzz_world, db):
    body = as_(fuzz_world, "hotel").get("/api/v1/hotel-stays/").json()
    assert set(body) == {"next", "previous", "results"} and len(body["results"]) == 1


@pytest.mark.parametrize(
    ("who", "url", "field"),
    [
        ("auditor", "/api/v1/audit/?person=a%00b", "person"),
        ("cdc", "/api/v1/risk-designations/?area_code=32%001003", "area_code"),
        ("cdc", "/api/v1/community-registrations/?status=pending%00", "status"),
        ("cdc", "/api/v1/persons/{ref}/status/?why=a%00b", "why"),
        ("cdc", "/api/v1/persons/{ref}/popups/?why=a%00b", "why"),
    ],
)
def test_a_nul_in_a_query_parameter_is_invalid_input(fuzz_world, db, who, url, field):
    r = as_(fuzz_world, who).get(url.format(ref=fuzz_world.ids["ref"][0]))
    assert r.status_code == 400
    assert list(r.json()) == [field]


@pytest.mark.parametrize("url", ["/api/v1/persons/a%00b/status/", "/api/v1/persons/a%00b/popups/"])
def test_a_nul_in_an_id_finds_nothing(fuzz_world, db, url):
    r = as_(fuzz_world, "cdc").get(url)
    assert r.status_code == 404
    assert "detail" in r.json()


def test_a_nul_in_a_feed_record_rejects_that_record(fuzz_world, db):
    idn = fuzz_world.persons[0][1]
    stay = {"source": "rail", "id_type": "resident_id", "id_number": idn, "precision": "county"}
    records = [
        {**stay, "external_id": "nul-1", "area_code": "32\x001003", "arrived_at": iso(2021, 8, 14, 8)},
        {**stay, "external_id": "ok-1", "area_code": RISK_COUNTY, "arrived_at": iso(2021, 8, 14, 8)},
    ]
    r = as_(fuzz_world, "partner").post("/api/v1/feeds/stays/", {"records": records}, format="json")
    assert r.status_code == 200
    body = r.json()
    assert body["accepted"] == 1
    assert [x["index"] for x in body["rejected"]] == [0]
