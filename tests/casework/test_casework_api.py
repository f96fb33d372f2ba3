"""Casework through the API (API.md "Staff actions", SPEC §5): release, re-raise by later
evidence, orders, registrations, the work queue and the audit."""

import pytest
import time_machine
from django.db import DatabaseError, IntegrityError, transaction

from apps.audit.models import AuditEvent
from apps.core.models import AppendOnlyError
from apps.status.models import Release
from tests.api.helpers import RISK_COUNTY, at, iso, rid, stay

IDN = rid("11010519900101123")
CLEAR = "已核实14天行程，无中高风险地区旅居史"


def release_body(**overrides):
    body = {"reason": CLEAR, "itinerary_verified": True, "nat_negative": True, "commitment_signed": True}
    body.update(overrides)
    return body


def active_popup(c, ref, number):
    r = c.get(f"/api/v1/persons/{ref}/popups/")
    assert r.status_code == 200, r.content
    return next(p for p in r.json() if p["number"] == number and p["active"])


@pytest.fixture
def flagged(world):
    """A resident of community CA with popup ③ from a stay in a county designated medium."""
    with time_machine.travel(at(2021, 7, 28, 9), tick=False):
        world.auditor = world.personas.client("auditor_1")
        world.ref = world.person(IDN, community="CA")
        world.feed("stays", stay(IDN, "G1", RISK_COUNTY, iso(2021, 7, 20, 8), iso(2021, 7, 22, 8)))
        world.designate(RISK_COUNTY, "medium", iso(2021, 7, 28, 0))
        assert [p["number"] for p in world.status(IDN)["popups"]] == [3]
    return world


def test_a_worker_releases_popup_3_and_later_evidence_raises_it_again_naming_the_release(flagged):
    w = flagged
    with time_machine.travel(at(2021, 7, 28, 10), tick=False):
        popup = active_popup(w.wa, w.ref, 3)
        r = w.wa.post(f"/api/v1/popups/{popup['id']}/release/", release_body(), format="json")
        assert r.status_code == 200, r.content
        assert r.json()["state"] == "green"
        assert w.status(IDN)["state"] == "green"
        release = Release.objects.get()
        assert release.status_before["state"] == "popup" and release.status_after["state"] == "green"
        episodes = w.wa.get(f"/api/v1/persons/{w.ref}/popups/").json()
        assert episodes[0]["ended_by"] == "release" and not episodes[0]["active"]
    with time_machine.travel(at(2021, 7, 28, 11), tick=False):
        # A late ticket into the same county, learnt after the release: 返弹.
        w.feed("stays", stay(IDN, "G2", RISK_COUNTY, iso(2021, 7, 24, 8), iso(2021, 7, 25, 8)))
        s = w.status(IDN)
    assert s["state"] == "popup" and [p["number"] for p in s["popups"]] == [3]
    reason = next(r for r in s["reasons"] if r.get("popup") == 3)
    assert reason["after_release"] == str(release.pk)
    assert f"#{release.pk}" in reason["summary"]


def test_the_checklist_and_reason_are_required_with_field_errors(flagged):
    w = flagged
    with time_machine.travel(at(2021, 7, 28, 10), tick=False):
        popup = active_popup(w.wa, w.ref, 3)
        r = w.wa.post(f"/api/v1/popups/{popup['id']}/release/", release_body(commitment_signed=False), format="json")
        assert r.status_code == 400 and "commitment_signed" in r.json()
        r = w.wa.post(f"/api/v1/popups/{popup['id']}/release/", release_body(reason="  "), format="json")
        assert r.status_code == 400 and "reason" in r.json()
    assert not Release.objects.exists()


def test_jurisdiction_404_and_role_403(flagged):
    w = flagged
    with time_machine.travel(at(2021, 7, 28, 10), tick=False):
        popup = active_popup(w.cdc, w.ref, 3)
        url = f"/api/v1/popups/{popup['id']}/release/"
        assert w.wb.post(url, release_body(), format="json").status_code == 404
        assert w.hotel.post(url, release_body(), format="json").status_code == 403
        assert w.policy.post(url, release_body(), format="json").status_code == 403
        assert w.gate.post(url, release_body(), format="json").status_code == 403
        assert w.wa.post("/api/v1/popups/999999/release/", release_body(), format="json").status_code == 404
        assert w.cdc.post(url, release_body(), format="json").status_code == 200
        # Released already: nothing left to release.
        assert w.cdc.post(url, release_body(), format="json").status_code == 409


def test_orders_start_and_end_with_the_issuers_rules(flagged):
    w = flagged
    with time_machine.travel(at(2021, 7, 28, 10), tick=False):
        body = {"person": w.ref, "kind": "home", "reason": "居家观察14天", "ends_at": iso(2021, 8, 11)}
        assert w.wb.post("/api/v1/orders/", body, format="json").status_code == 404
        assert w.wa.post("/api/v1/orders/", {**body, "kind": "centralized"}, format="json").status_code == 403
        r = w.wa.post("/api/v1/orders/", body, format="json")
        assert r.status_code == 201, r.content
        assert r.json()["status"]["state"] == "yellow"
        order = r.json()["id"]
        r = w.cdc.post("/api/v1/orders/", {**body, "kind": "centralized"}, format="json")
        assert r.status_code == 201 and r.json()["status"]["state"] == "red"
        cdc_order = r.json()["id"]
        # A community worker may not end the CDC's order.
        assert w.wa.post(f"/api/v1/orders/{cdc_order}/end/", {"reason": "x"}, format="json").status_code == 403
        assert w.cdc.post(f"/api/v1/orders/{cdc_order}/end/", {"reason": "解除"}, format="json").status_code == 200
        r = w.wa.post(f"/api/v1/orders/{order}/end/", {"reason": ""}, format="json")
        assert r.status_code == 400 and "reason" in r.json()
        r = w.wa.post(f"/api/v1/orders/{order}/end/", {"reason": "提前解除"}, format="json")
        assert r.status_code == 200 and r.json()["status"]["state"] == "popup"
        assert w.wa.post(f"/api/v1/orders/{order}/end/", {"reason": "again"}, format="json").status_code == 409


def test_a_registration_appears_in_the_community_queue_and_is_decided(world):
    with time_machine.travel(at(2021, 7, 28, 9), tick=False):
        other = rid("32100319850101002")
        body = {
            "id_type": "resident_id",
            "id_number": other,
            "community": "CB",
            "arriving_at": iso(2021, 7, 30, 18),
            "from_area_code": RISK_COUNTY,
        }
        r = world.gate.post("/api/v1/community-registrations/", body, format="json")
        assert r.status_code == 201, r.content
        reg = r.json()["id"]
        bad = world.gate.post("/api/v1/community-registrations/", {**body, "community": "NOPE"}, format="json")
        assert bad.status_code == 400 and "community" in bad.json()
        assert [i["kind"] for i in world.wb.get("/api/v1/work-queue/").json()["items"]] == ["registration"]
        assert world.wa.get("/api/v1/work-queue/").json()["counts"]["registration"] == 0
        assert len(world.wb.get("/api/v1/community-registrations/").json()) == 1
        assert world.wa.get("/api/v1/community-registrations/").json() == []
        decide = {"decision": "home_observation", "note": "来自中风险地区，居家观察"}
        url = f"/api/v1/community-registrations/{reg}/decide/"
        assert world.wa.post(url, decide, format="json").status_code == 404
        r = world.wb.post(url, decide, format="json")
        assert r.status_code == 200, r.content
        assert r.json()["status"] == "home_observation"
        assert world.wb.post(url, decide, format="json").status_code == 409
    with time_machine.travel(at(2021, 7, 31, 9), tick=False):
        assert world.status(other)["state"] == "yellow"


def test_the_audit_lists_changes_and_look_ups_and_refuses_change(flagged):
    w = flagged
    with time_machine.travel(at(2021, 7, 28, 10), tick=False):
        popup = active_popup(w.wa, w.ref, 3)
        w.wa.post(f"/api/v1/popups/{popup['id']}/release/", release_body(), format="json")
        assert w.wa.get(f"/api/v1/audit/?person={w.ref}").status_code == 403
        r = w.auditor.get(f"/api/v1/audit/?person={w.ref}")
        assert r.status_code == 200, r.content
        kinds = [e["kind"] for e in r.json()]
        assert "popup.released" in kinds and "lookup" in kinds
        change = next(e for e in r.json() if e["kind"] == "popup.released")
        assert change["actor"] == "worker_a" and change["reason"] == CLEAR
        assert change["detail"]["status_before"]["state"] == "popup"
        assert change["detail"]["status_after"]["state"] == "green"
        assert change["detail"]["checklist"] == {
            "itinerary_verified": True,
            "nat_negative": True,
            "commitment_signed": True,
        }
        assert w.auditor.get("/api/v1/audit/?person=nope").status_code == 404
        assert w.auditor.get("/api/v1/audit/").status_code == 400
    event = AuditEvent.objects.get(kind="popup.released")
    event.reason = "changed"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    # The database refuses it too, whatever code issues the statement.
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(reason="changed")
    release = Release.objects.get()
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        Release.objects.filter(pk=release.pk).update(reason="changed")
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        Release.objects.filter(pk=release.pk).update(status_after={})
