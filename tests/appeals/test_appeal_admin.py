"""The appeal screens: the operator's intake form with the masked status, the list with overdue
appeals highlighted, re-routing from the list, and the community worker's steps on the page."""

import time_machine
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from apps.appeals.models import Appeal
from apps.audit.models import AccessLog
from tests.api.helpers import at

from .conftest import RESIDENT

INTAKE = {
    "id_type": "resident_id",
    "id_number": RESIDENT,
    "channel": "12345",
    "category": "status_not_updated",
    "description": "社区已核验但仍弹窗",
    "caller_phone": "13812345678",
}


def login(username) -> Client:
    c = Client()
    c.force_login(get_user_model().objects.get(username=username))
    return c


def test_the_operator_checks_the_masked_status_then_opens_the_appeal(flagged):
    with time_machine.travel(at(2021, 8, 16, 10), tick=False):
        op = login("op_1")
        r = op.post(reverse("admin:appeals_appeal_add"), {**INTAKE, "_check": "1"})
        assert r.status_code == 200
        panel = r.content.decode().split('id="person-status"')[1].split("</div>")[0]
        assert "王**" in panel and "弹窗③" in panel and RESIDENT not in panel
        assert AccessLog.objects.filter(actor__username="op_1", via="admin").exists()
        assert not Appeal.objects.exists()
        r = op.post(reverse("admin:appeals_appeal_add"), {**INTAKE, "_open": "1"})
        appeal = Appeal.objects.get()
        assert r.status_code == 302 and r["Location"] == reverse("admin:appeals_appeal_change", args=[appeal.pk])
        assert appeal.routed_to.code == "CA" and appeal.opened_by.username == "op_1"
        page = op.get(r["Location"]).content.decode()
        assert "13812345678" not in page and "138****5678" in page and "step-route" in page
        assert "step-resolve" not in page, "operators do not resolve"


def test_overdue_appeals_are_highlighted_and_filtered(flagged):
    with time_machine.travel(at(2021, 8, 16, 10), tick=False):
        login("op_1").post(reverse("admin:appeals_appeal_add"), {**INTAKE, "_open": "1"})
    with time_machine.travel(at(2021, 8, 16, 22), tick=False):
        r = login("op_1").get(reverse("admin:appeals_appeal_changelist"))
        assert "appeal-overdue" not in r.content.decode(), "due at 22:00 exactly: not yet overdue"
    with time_machine.travel(at(2021, 8, 16, 22, 0, 1), tick=False):
        r = login("op_1").get(reverse("admin:appeals_appeal_changelist"))
        assert "appeal-overdue" in r.content.decode()
        r = login("worker_a").get(reverse("admin:appeals_appeal_changelist"), {"overdue": "yes"})
        assert r.context["cl"].result_list.count() == 1
        assert login("worker_b").get(reverse("admin:appeals_appeal_changelist")).context["cl"].result_list.count() == 0


def test_the_operator_re_routes_from_the_list_and_the_community_resolves_on_the_page(flagged):
    w = flagged
    with time_machine.travel(at(2021, 8, 16, 10), tick=False):
        login("op_1").post(reverse("admin:appeals_appeal_add"), {**INTAKE, "_open": "1"})
        appeal = Appeal.objects.get()
        cb = appeal.routed_to.__class__.objects.get(code="CB")
        r = login("op_1").post(
            reverse("admin:appeals_appeal_changelist"),
            {
                "action": "route_selected",
                "_selected_action": [appeal.pk],
                "apply": "1",
                "route-routed_to": cb.pk,
                "route-reason": "实际居住在CB",
            },
        )
        assert r.status_code == 302
        appeal.refresh_from_db()
        assert appeal.routed_to.code == "CB" and appeal.routing_basis == "manual"
        step = reverse("admin:appeals_appeal_step", args=[appeal.pk, "resolve"])
        assert login("worker_a").post(step, {"resolve-resolution": "x"}).status_code == 404
        worker = login("worker_b")
        r = worker.post(step, {"resolve-resolution": "已核验", "resolve-release_popups": "on"})
        assert r.status_code == 302
        appeal.refresh_from_db()
        assert appeal.status == "routed", "the checklist was incomplete: nothing changed"
        r = worker.post(
            step,
            {
                "resolve-resolution": "已远程核验，解除弹窗",
                "resolve-release_popups": "on",
                "resolve-itinerary_verified": "on",
                "resolve-nat_negative": "on",
                "resolve-commitment_signed": "on",
            },
        )
        assert r.status_code == 302
        appeal.refresh_from_db()
        assert appeal.status == "resolved"
        assert w.status(RESIDENT)["state"] == "green"
