"""What the schema fuzzer found, pinned as plain examples so they stay fixed even where the fuzzer
would need luck to find them again (several were 500s on PostgreSQL only), and what the probe of
issue 12 found (their kin, walked over every endpoint, feed and admin: tests/api/test_bad_input.py)."""

import json

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


# --- issue 12: the probe's 500s --------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/api/v1/persons/", "/api/v1/feeds/stays/", "/api/v1/appeals/", "/api/v1/policy/"])
def test_json_nested_a_thousand_deep_answers_400_naming_the_limit(fuzz_world, db, url):
    c = as_(fuzz_world, "cdc" if "feeds" not in url else "partner")
    method = c.put if url.endswith("/policy/") else c.post
    r = method(url, data="[" * 1000 + "]" * 1000, content_type="application/json")
    assert r.status_code in (400, 403)
    if r.status_code == 400:
        assert "32" in r.json()["detail"]


def test_a_lone_surrogate_in_one_record_rejects_that_record_and_keeps_the_batch(fuzz_world, db):
    idn = fuzz_world.persons[0][1]
    stay = {"source": "rail", "id_type": "resident_id", "id_number": idn, "precision": "county"}
    records = [
        {**stay, "external_id": "sur-1", "area_code": RISK_COUNTY, "arrived_at": iso(2021, 8, 14, 8)},
        {**stay, "external_id": "sur-\udfff", "area_code": RISK_COUNTY, "arrived_at": iso(2021, 8, 14, 8)},
        {**stay, "external_id": "sur-2", "area_code": "32\udfff", "arrived_at": iso(2021, 8, 14, 8)},
        {**stay, "external_id": "sur-3", "area_code": RISK_COUNTY, "arrived_at": iso(2021, 8, 14, 9)},
    ]
    r = as_(fuzz_world, "partner").post(
        "/api/v1/feeds/stays/", data=json.dumps({"records": records}), content_type="application/json"
    )
    assert r.status_code == 200
    body = r.json()
    assert body["accepted"] == 2
    assert [(x["index"], list(x["errors"])) for x in body["rejected"]] == [(1, ["external_id"]), (2, ["area_code"])]


@pytest.mark.parametrize("count", [2**31, 2**63])
def test_a_local_case_count_too_big_for_its_column_is_a_field_error(fuzz_world, db, count):
    record = {"external_id": "lc-big", "area_code": RISK_COUNTY, "reported_on": "2021-08-15", "count": count}
    r = as_(fuzz_world, "partner").post("/api/v1/feeds/local-cases/", {"records": [record]}, format="json")
    assert r.status_code == 200
    assert [(x["index"], list(x["errors"])) for x in r.json()["rejected"]] == [(0, ["count"])]


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_a_local_case_in_year_1_or_9999_is_a_field_error(fuzz_world, db, day):
    record = {"external_id": "lc-day", "area_code": RISK_COUNTY, "reported_on": day, "count": 1}
    body = as_(fuzz_world, "partner").post("/api/v1/feeds/local-cases/", {"records": [record]}, format="json").json()
    assert body["accepted"] == 0 and list(body["rejected"][0]["errors"]) == ["reported_on"]


def test_a_passport_born_tomorrow_is_a_field_error(fuzz_world, db):
    partner = as_(fuzz_world, "partner")
    person = {"id_type": "passport", "id_number": "F7654321", "name": "Jo"}
    r = partner.post("/api/v1/persons/", {**person, "birth_date": "2021-08-17"}, format="json")
    assert r.status_code == 400 and list(r.json()) == ["birth_date"]


def test_a_body_over_the_limit_is_a_json_413(fuzz_world, db, settings):
    settings.API_MAX_BODY_BYTES = 100
    r = as_(fuzz_world, "partner").post("/api/v1/feeds/stays/", {"records": [{"x": "y" * 200}]}, format="json")
    assert r.status_code == 413
    assert list(r.json()) == ["detail"] and " 100 " in r.json()["detail"]
