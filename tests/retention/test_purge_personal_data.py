"""The personal-data purges of `RETENTION_PERSONAL_DATA_DAYS` (365): the raw copy of ingested
batches, and the caller's phone number of closed appeals (the rows themselves stay)."""

import datetime as dt

import pytest
import time_machine
from django.contrib.auth import get_user_model

from apps.appeals.models import Appeal
from apps.core import crypto
from apps.evidence.models import Ingestion
from apps.retention.services import purge_appeal_contacts, purge_ingestion_payloads

from .conftest import MINUTE, NOW, make_person

DAYS_365 = dt.timedelta(days=365)


def test_it_erases_a_batch_one_minute_past_and_keeps_one_a_minute_inside(db):
    for name, moment in (("past", NOW - DAYS_365 - MINUTE), ("inside", NOW - DAYS_365 + MINUTE)):
        Ingestion.objects.create(feed=name, received_at=moment, payload={"records": [{"id_number": "110105…"}]})
    with time_machine.travel(NOW, tick=False):
        assert purge_ingestion_payloads() == 1
        assert purge_ingestion_payloads() == 0
    assert Ingestion.objects.get(feed="past").payload is None, "the row stays: it orders knowledge"
    assert Ingestion.objects.get(feed="inside").payload == {"records": [{"id_number": "110105…"}]}


@pytest.fixture
def appeals(db):
    with time_machine.travel(NOW - DAYS_365 - dt.timedelta(days=10), tick=False):
        person = make_person(1)
        operator = get_user_model().objects.create_user("operator", password="x")

    def appeal(number, status, resolved_at):
        return Appeal.objects.create(
            tracking_number=number,
            person=person,
            channel="12345",
            category="wrongly_flagged",
            description="弹窗误伤",
            caller_phone_encrypted=crypto.encrypt("13900000009"),
            caller_phone_display="139****0009",
            status=status,
            due_at=NOW - DAYS_365 - dt.timedelta(days=5),
            opened_by=operator,
            resolved_at=resolved_at,
        )

    with time_machine.travel(NOW - DAYS_365 - dt.timedelta(days=10), tick=False):
        return {
            "past": appeal("A1", "resolved", NOW - DAYS_365 - MINUTE),
            "rejected": appeal("A2", "rejected", NOW - DAYS_365 - MINUTE),
            "inside": appeal("A3", "resolved", NOW - DAYS_365 + MINUTE),
            "open": appeal("A4", "in_progress", None),
        }


def test_it_erases_the_callers_number_of_appeals_closed_one_minute_past(appeals):
    with time_machine.travel(NOW, tick=False):
        assert purge_appeal_contacts() == 2
        assert purge_appeal_contacts() == 0
    erased = {a.tracking_number for a in Appeal.objects.filter(caller_phone_encrypted="", caller_phone_display="")}
    assert erased == {"A1", "A2"}, "an appeal closed a minute inside, or still open, keeps the number"
    assert Appeal.objects.count() == 4, "the appeals themselves stay"
    history = Appeal.history.filter(tracking_number__in=["A1", "A2"])
    assert history.exists() and set(history.values_list("caller_phone_encrypted", "caller_phone_display")) == {("", "")}
    assert Appeal.history.filter(tracking_number="A3").exclude(caller_phone_encrypted="").exists()
