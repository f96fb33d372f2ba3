"""Correcting a record by hand is a manual change (SPEC §5): superusers only, with a reason,
audited, and the status it affects recomputes at once; nothing accepted is deleted."""

import datetime as dt

import time_machine
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import User
from apps.audit.models import AuditEvent
from apps.evidence.models import Stay
from tests.api.helpers import RISK_COUNTY, at, iso, rid, stay

IDN = rid("11010519900101123")


def test_a_superuser_corrects_a_stay_with_a_reason_and_the_status_follows(world, client):
    with time_machine.travel(at(2021, 7, 28, 9), tick=False):
        world.person(IDN, community="CA")
        world.feed("stays", stay(IDN, "G1", RISK_COUNTY, iso(2021, 7, 20, 8), iso(2021, 7, 22, 8)))
        world.designate(RISK_COUNTY, "medium", iso(2021, 7, 28, 0))
        assert world.status(IDN)["state"] == "popup"
        admin_user = User.objects.create_superuser("root", password="pw")
        client.force_login(admin_user)
        record = Stay.objects.get(external_id="G1")
        url = reverse("admin:evidence_stay_change", args=[record.pk])
        form = client.get(url).context["adminform"].form
        data = {}
        for name in form.fields:
            value = form[name].value()
            if isinstance(value, dt.datetime):
                local = timezone.localtime(value)
                data[f"{name}_0"], data[f"{name}_1"] = local.date().isoformat(), local.time().isoformat()
            elif value is not None:
                data[name] = value
        data["refunded"] = "on"  # the ticket was refunded: it never counted
        data.pop("correction_reason", None)
        response = client.post(url, data)
        assert response.status_code == 200 and "correction_reason" in response.context["adminform"].form.errors
        record.refresh_from_db()
        assert not record.refunded
        data["correction_reason"] = "铁路确认已退票"
        response = client.post(url, data)
        assert response.status_code == 302, response.context["adminform"].form.errors
        record.refresh_from_db()
        assert record.refunded
        event = AuditEvent.objects.get(kind="record.corrected")
        assert event.reason == "铁路确认已退票" and "refunded" in event.detail["fields"]
        assert event.person_id == record.person_id
        assert world.status(IDN)["state"] == "green"
        # Nothing accepted is ever deleted, not even by a superuser.
        delete = reverse("admin:evidence_stay_delete", args=[record.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403
        assert Stay.objects.filter(pk=record.pk).exists()


def test_a_correction_after_a_release_is_new_knowledge_and_raises_the_popup_again(world):
    """A release covers what was learnt before it. A superuser's later correction of a stay is
    learnt then, through its own staff ingestion, so the popup it warrants comes back."""
    from apps.casework.services import popups_release, record_corrected
    from apps.evidence.models import Ingestion
    from apps.people.models import Person
    from apps.status.models import Release

    checked = {"itinerary_verified": True, "nat_negative": True, "commitment_signed": True}
    with time_machine.travel(at(2021, 7, 28, 9), tick=False):
        world.person(IDN, community="CA")
        world.feed("stays", stay(IDN, "G1", RISK_COUNTY, iso(2021, 7, 20, 8), iso(2021, 7, 22, 8)))
        world.designate(RISK_COUNTY, "medium", iso(2021, 7, 28, 0))
        assert [p["number"] for p in world.status(IDN)["popups"]] == [3]
        person = Person.objects.get(id_hash__isnull=False, community__code="CA")
        popups_release(
            actor=User.objects.get(username="worker_a"), person_ids=[person.pk], reason="已核实", checklist=checked
        )
        assert world.status(IDN)["state"] == "green"
        watermark = Release.objects.get(person=person).evidence_watermark
    with time_machine.travel(at(2021, 7, 28, 11), tick=False):
        record = Stay.objects.get(external_id="G1")
        Stay.objects.filter(pk=record.pk).update(departed_at=at(2021, 7, 25, 8))  # left later than fed
        record.refresh_from_db()
        root = User.objects.create_superuser("root", password="pw")
        record_corrected(actor=root, obj=record, reason="铁路更正离开时间", fields=["departed_at"])
        record.refresh_from_db()
        assert record.ingestion_id > watermark
        assert Ingestion.objects.get(pk=record.ingestion_id).feed == "correction"
        assert record.ingested_at == at(2021, 7, 28, 11)
        body = world.status(IDN)
        assert [p["number"] for p in body["popups"]] == [3], "raised again by the corrected stay"
