"""Builders for the retention tests: persons with phones, telecom stays fed in through the stays
feed (one batch each, so each has its own raw payload), and the edges of each retention window at
a fixed `NOW`. (The country's divisions are loaded once per test database: tests/conftest.py.)"""

import datetime as dt
import os

import pytest
from django.conf import settings
from django.db import connection

from apps.evidence.models import Stay
from apps.evidence.services import feed_ingest
from apps.people.identity import resident_id_check_char
from apps.people.services import PhoneInput, person_upsert
from tests.api.helpers import at

NOW = at(2022, 3, 1, 9)
MINUTE = dt.timedelta(minutes=1)
RISK_COUNTY = "321003"  # 扬州市邗江区
RISK_CITY = "321000"  # 扬州市

postgres_only = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql"
    and os.environ.get("HEALTHKIT_REQUIRE_SERVICES") != "1",
    reason="PostgreSQL only: the DELETE guard of the append-only triggers, advisory locks",
)


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def rid(n: int) -> str:
    first17 = f"11010519900101{n:03d}"
    return first17 + resident_id_check_char(first17)


def make_person(n: int, *phones: PhoneInput):
    person, _created = person_upsert(id_type="resident_id", id_number=rid(n), name="李雷", phones=list(phones))
    return person


def telecom(ext: str, phone: str, arrived: dt.datetime, departed: dt.datetime | None, area: str = RISK_CITY) -> Stay:
    """One telecom stay, ingested in a batch of its own at the current (travelled) time."""
    result = feed_ingest(
        feed="stays",
        records=[
            {
                "source": "telecom",
                "external_id": ext,
                "phone": phone,
                "area_code": area,
                "precision": "city",
                "arrived_at": arrived.isoformat(),
                "departed_at": departed.isoformat() if departed else None,
            }
        ],
    )
    assert not result.rejected, result.rejected
    return Stay.objects.get(source="telecom", external_id=ext)
