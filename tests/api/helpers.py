"""Helpers for the API tests: time, IDs, clients, and the World of personas."""

import datetime as dt
import io

from django.core.management import call_command
from rest_framework.test import APIClient

from apps.core.clock import LOCAL_TZ
from apps.people.identity import resident_id_check_char

CHAOYANG = "110105"
RISK_COUNTY = "321003"  # 扬州市邗江区
LOW_COUNTY_SAME_CITY = "321002"  # 扬州市广陵区
RISK_CITY = "321000"
BORDER_COUNTY = "533102"  # 瑞丽市
CASE_COUNTY = "320115"  # 南京市江宁区


def at(*parts) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=LOCAL_TZ)


def iso(*parts) -> str:
    return at(*parts).isoformat()


def rid(first17: str) -> str:
    return first17 + resident_id_check_char(first17)


def last_line(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return [line.strip() for line in out.getvalue().splitlines() if line.strip()][-1]


def client(token: str) -> APIClient:
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION="Token " + token)
    return c


class World:
    def person(self, idn, name="王小明", community=None, phones=()):
        body = {"id_type": "resident_id", "id_number": idn, "name": name, "phones": list(phones)}
        if community:
            body["community"] = community
        r = self.feeds.post("/api/v1/persons/", body, format="json")
        assert r.status_code in (200, 201), r.content
        return r.json()["ref"]

    def status(self, idn, **extra):
        r = self.gate.get("/api/v1/status/", {"id_type": "resident_id", "id_number": idn, **extra})
        assert r.status_code == 200, r.content
        return r.json()

    def feed(self, name, *records):
        r = self.feeds.post(f"/api/v1/feeds/{name}/", {"records": list(records)}, format="json")
        assert r.status_code == 200, r.content
        return r.json()

    def designate(self, area, level, effective):
        r = self.policy.post(
            "/api/v1/risk-designations/",
            {"area_code": area, "level": level, "effective_from": effective},
            format="json",
        )
        assert r.status_code == 201, r.content
        return r.json()


def stay(idn, ext, area, arrived, departed, precision="county", source="rail", **extra):
    record = {
        "source": source,
        "external_id": ext,
        "area_code": area,
        "precision": precision,
        "arrived_at": arrived,
        "departed_at": departed,
    }
    if idn:
        record.update({"id_type": "resident_id", "id_number": idn})
    record.update(extra)
    return record


def popups(status: dict) -> list[int]:
    return sorted(p["number"] for p in status["popups"])
