"""Following an appeal: the hotline sees the masked status and re-routes; the organisation it is
routed to starts, resolves (releasing popups with the checklist) or rejects; every step is an
event and an audit entry; roles and jurisdictions are enforced (403 role, 404 jurisdiction)."""

import time_machine

from apps.appeals.models import Appeal, AppealEvent
from apps.audit.models import AccessLog, AuditEvent
from apps.status.models import Release
from tests.api.helpers import at

from .conftest import RESIDENT, TRAVELLER, appeal_body

CHECKS = {"itinerary_verified": True, "nat_negative": True, "commitment_signed": True}


def opened(w, idn=RESIDENT, **extra):
    r = w.op.post("/api/v1/appeals/", appeal_body(idn, **extra), format="json")
    assert r.status_code == 201, r.content
    return r.json()["id"]


def test_the_operator_sees_the_masked_status_and_reasons_and_the_look_up_is_logged(flagged):
    w = flagged
    with time_machine.travel(at(2021, 8, 16, 10), tick=False):
        appeal_id = opened(w)
        r = w.op.get(f"/api/v1/appeals/{appeal_id}/")
    assert r.status_code == 200
    body = r.json()
    assert body["person_status"]["state"] == "popup"
    assert body["person_status"]["display_name"] == "王**"
    assert body["person_status"]["reasons"][0]["rule"] == "popup3.risk_county_stay"
    assert RESIDENT not in r.content.decode() and "王小明" not in r.content.decode()
    assert [e["to"] for e in body["events"]] == ["routed"]
    assert AccessLog.objects.filter(actor__username="op_1", why__contains=body["tracking_number"]).exists()


def test_a_community_worker_resolves_with_a_release_and_the_person_turns_green(flagged):
    w = flagged
    with time_machine.travel(at(2021, 8, 16, 10), tick=False):
        appeal_id = opened(w)
    with time_machine.travel(at(2021, 8, 16, 15), tick=False):
        assert (
            w.wa.post(f"/api/v1/appeals/{appeal_id}/start/", {"note": "已电话联系"}, format="json").status_code == 200
        )
        r = w.wa.post(
            f"/api/v1/appeals/{appeal_id}/resolve/",
            {"resolution": "已远程核验行程，解除弹窗", "release_popups": True, **CHECKS},
            format="json",
        )
        assert r.status_code == 200, r.content
        assert r.json()["status"] == "resolved" and r.json()["person_status"]["state"] == "green"
        assert w.status(RESIDENT)["state"] == "green"
        assert (
            w.wa.post(f"/api/v1/appeals/{appeal_id}/resolve/", {"resolution": "again"}, format="json").status_code
            == 409
        )
    appeal = Appeal.objects.get(pk=appeal_id)
    assert appeal.resolved_at == at(2021, 8, 16, 15)
    assert [(e.from_status, e.to_status) for e in appeal.events.order_by("at", "pk")] == [
        ("", "routed"),
        ("routed", "in_progress"),
        ("in_progress", "resolved"),
    ]
    release = Release.objects.get()
    assert release.actor.username == "worker_a" and release.reason == "已远程核验行程，解除弹窗"
    kinds = list(AuditEvent.objects.filter(person__ref=w.resident).order_by("at", "pk").values_list("kind", flat=True))
    assert kinds == ["appeal.opened", "appeal.started", "popup.released", "appeal.resolved"]
    assert AuditEvent.objects.get(kind="appeal.resolved").detail["releases"] == [str(release.pk)]


def test_a_release_needs_the_full_checklist_and_nothing_changes_without_it(flagged):
    w = flagged
    with time_machine.travel(at(2021, 8, 16, 10), tick=False):
        appeal_id = opened(w)
        r = w.wa.post(
            f"/api/v1/appeals/{appeal_id}/resolve/",
            {"resolution": "核验", "release_popups": True, "itinerary_verified": True},
            format="json",
        )
        assert r.status_code == 400 and "commitment_signed" in r.json()
        r = w.wa.post(f"/api/v1/appeals/{appeal_id}/resolve/", {"resolution": " "}, format="json")
        assert r.status_code == 400
    assert Appeal.objects.get(pk=appeal_id).status == "routed"
    assert not Release.objects.exists()


def test_resolving_without_a_release_leaves_the_status_alone(flagged):
    w = flagged
    with time_machine.travel(at(2021, 8, 16, 10), tick=False):
        appeal_id = opened(w)
        r = w.wa.post(f"/api/v1/appeals/{appeal_id}/resolve/", {"resolution": "已告知来电人需先做核酸"}, format="json")
        assert r.status_code == 200 and r.json()["person_status"] is None
        assert w.status(RESIDENT)["state"] == "popup"


def test_roles_and_jurisdictions(flagged):
    w = flagged
    with time_machine.travel(at(2021, 8, 16, 10), tick=False):
        appeal_id = opened(w)
        resolve = f"/api/v1/appeals/{appeal_id}/resolve/"
        body = {"resolution": "x"}
        # Role: 403 whatever the appeal.
        assert w.hotel.post("/api/v1/appeals/", appeal_body(), format="json").status_code == 403
        assert w.wa.post("/api/v1/appeals/", appeal_body(), format="json").status_code == 403
        assert w.op.post(resolve, body, format="json").status_code == 403
        assert w.hotel.post(resolve, body, format="json").status_code == 403
        assert w.gate.post(resolve, body, format="json").status_code == 403
        assert (
            w.wa.post(
                f"/api/v1/appeals/{appeal_id}/route/", {"routed_to": "CB", "reason": "x"}, format="json"
            ).status_code
            == 403
        )
        assert w.hotel.get(f"/api/v1/appeals/{appeal_id}/").status_code == 403
        # Jurisdiction: 404.
        assert w.wb.post(resolve, body, format="json").status_code == 404
        assert w.cdc.post(resolve, body, format="json").status_code == 404, "routed to a community, not the CDC"
        assert w.wb.get(f"/api/v1/appeals/{appeal_id}/").status_code == 404
        assert w.op2.get(f"/api/v1/appeals/{appeal_id}/").status_code == 404, "another hotline centre"
        assert (
            w.op2.post(
                f"/api/v1/appeals/{appeal_id}/route/", {"routed_to": "CB", "reason": "x"}, format="json"
            ).status_code
            == 404
        )
        assert w.wa.post("/api/v1/appeals/999999/resolve/", body, format="json").status_code == 404
        assert w.wa.get(f"/api/v1/appeals/{appeal_id}/").status_code == 200
        assert w.cdc.get(f"/api/v1/appeals/{appeal_id}/").status_code == 200, "CDC officers see everyone"


def test_the_hotline_re_routes_by_hand_with_a_reason(flagged):
    w = flagged
    with time_machine.travel(at(2021, 8, 16, 10), tick=False):
        appeal_id = opened(w)
        url = f"/api/v1/appeals/{appeal_id}/route/"
        assert w.op.post(url, {"routed_to": "H1", "reason": "x"}, format="json").status_code == 400
        assert w.op.post(url, {"routed_to": "CA", "reason": "x"}, format="json").status_code == 400
        assert w.op.post(url, {"routed_to": "CB", "reason": " "}, format="json").status_code == 400
        r = w.op.post(url, {"routed_to": "CB", "reason": "来电人实际居住在另一社区"}, format="json")
        assert r.status_code == 200 and r.json()["routed_to"] == "CB" and r.json()["routing_basis"] == "manual"
        assert w.wa.post(f"/api/v1/appeals/{appeal_id}/resolve/", {"resolution": "x"}, format="json").status_code == 404
        r = w.op.post(url, {"routed_to": "CDC", "reason": "社区无法联系，转疾控"}, format="json")
        assert r.status_code == 200 and r.json()["routed_to"] == "CDC"
        r = w.cdc.post(
            f"/api/v1/appeals/{appeal_id}/resolve/",
            {"resolution": "疾控远程核验后解除", "release_popups": True, **CHECKS},
            format="json",
        )
        assert r.status_code == 200 and r.json()["person_status"]["state"] == "green"
    events = AppealEvent.objects.filter(appeal_id=appeal_id).order_by("at", "pk")
    assert [(e.routed_to.code, e.reason) for e in events][1:3] == [
        ("CB", "来电人实际居住在另一社区"),
        ("CDC", "社区无法联系，转疾控"),
    ]
    assert AuditEvent.objects.filter(kind="appeal.routed", actor__username="op_1").count() == 2


def test_a_dead_loop_outside_beijing_is_verified_remotely_by_the_cdc(flagged):
    w = flagged
    with time_machine.travel(at(2021, 8, 16, 10), tick=False):
        appeal_id = opened(w, TRAVELLER, category="dead_loop")
        r = w.cdc.post(
            f"/api/v1/appeals/{appeal_id}/resolve/",
            {"resolution": "远程核验：离开邗江区已满14天", "release_popups": True, **CHECKS},
            format="json",
        )
        assert r.status_code == 200, r.content
        assert w.status(TRAVELLER)["state"] == "green"


def test_the_operator_or_the_community_rejects_with_a_reason(flagged):
    w = flagged
    with time_machine.travel(at(2021, 8, 16, 10), tick=False):
        first, second = opened(w), opened(w, category="other")
        assert w.op.post(f"/api/v1/appeals/{first}/reject/", {"reason": ""}, format="json").status_code == 400
        r = w.op.post(f"/api/v1/appeals/{first}/reject/", {"reason": "重复来电"}, format="json")
        assert r.status_code == 200 and r.json()["status"] == "rejected"
        r = w.wa.post(f"/api/v1/appeals/{second}/reject/", {"reason": "非健康宝问题"}, format="json")
        assert r.status_code == 200
        assert w.wb.post(f"/api/v1/appeals/{second}/reject/", {"reason": "x"}, format="json").status_code == 404
        assert (
            w.op.post(f"/api/v1/appeals/{first}/route/", {"routed_to": "CB", "reason": "x"}, format="json").status_code
            == 409
        )
    assert AuditEvent.objects.filter(kind="appeal.rejected").count() == 2
