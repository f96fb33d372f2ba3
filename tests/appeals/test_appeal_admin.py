"""The appeal screens: the operator's intake form (the check shows the masked status only of a person
the centre has an appeal about, and is rate-limited), the list with overdue appeals highlighted,
re-routing from the list, and the steps on the appeal's page — each its own form outside the
admin's change form, errors shown with the typed input kept, refusals said in words."""

import re

import time_machine
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from apps.accounts.models import Organisation
from apps.appeals import services
from apps.appeals.models import Appeal
from apps.audit.models import AccessLog
from apps.people.models import Person
from tests.api.helpers import at, rid
from tests.nested_forms import form_count, nested_forms

from .conftest import RESIDENT, TRAVELLER

UNKNOWN = rid("11010519800202002")  # a well-formed resident ID nobody has
INTAKE = {
    "id_type": "resident_id",
    "id_number": RESIDENT,
    "channel": "12345",
    "category": "status_not_updated",
    "description": "社区已核验但仍弹窗",
    "caller_phone": "13812345678",
}
CHECKED = {"resolve-itinerary_verified": "on", "resolve-nat_negative": "on", "resolve-commitment_signed": "on"}
ADD = "admin:appeals_appeal_add"


def login(username) -> Client:
    c = Client()
    c.force_login(get_user_model().objects.get(username=username))
    return c


def neutral(html: str) -> str:
    """The page without what differs on every render (the CSRF token)."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def open_appeal(idn=RESIDENT, operator="op_1") -> Appeal:
    return services.appeal_open(
        actor=get_user_model().objects.get(username=operator),
        id_type="resident_id",
        id_number=idn,
        channel="12345",
        category="wrongly_flagged",
        description="来电人称弹窗是误伤",
        origin="admin",
    )


def step_url(appeal, name) -> str:
    return reverse("admin:appeals_appeal_step", args=[appeal.pk, name])


def page_of(appeal) -> str:
    return reverse("admin:appeals_appeal_change", args=[appeal.pk])


# --- the intake's check ---------------------------------------------------------------------------


def test_the_check_says_the_same_for_an_unknown_id_and_a_person_without_an_appeal(flagged):
    persons = Person.objects.count()
    with time_machine.travel(at(2021, 8, 16, 10), tick=False):
        op = login("op_1")
        known = op.post(reverse(ADD), {"id_type": "resident_id", "id_number": RESIDENT, "_check": "1"})
        unknown = op.post(reverse(ADD), {"id_type": "resident_id", "id_number": UNKNOWN, "_check": "1"})
    assert known.status_code == unknown.status_code == 200
    for response in (known, unknown):
        page = response.content.decode()
        assert 'id="preview-pending"' in page and 'id="person-status"' not in page
        assert "王**" not in page and "弹窗" not in page
    # Apart from the typed number, the two answers are the same, byte for byte.
    assert neutral(known.content.decode()).replace(RESIDENT, "?") == neutral(unknown.content.decode()).replace(
        UNKNOWN, "?"
    )
    assert not AccessLog.objects.exists(), "nothing was looked up that the operator may see"
    assert not Appeal.objects.exists() and Person.objects.count() == persons


def test_the_check_validates_only_the_id_format(flagged):
    with time_machine.travel(at(2021, 8, 16, 10), tick=False):
        r = login("op_1").post(
            reverse(ADD), {"id_type": "resident_id", "id_number": RESIDENT[:-1] + "0", "_check": "1"}
        )
    assert r.status_code == 200
    form = r.context["form"]
    assert list(form.errors) == ["id_number"], "the empty description does not block a check"
    assert 'id="preview-pending"' not in r.content.decode()


def test_the_check_shows_the_masked_status_once_the_centre_has_an_appeal_and_logs_that_appeal(flagged):
    with time_machine.travel(at(2021, 8, 16, 10), tick=False):
        appeal = open_appeal()
        r = login("op_1").post(reverse(ADD), {**INTAKE, "_check": "1"})
        assert r.status_code == 200
        panel = r.content.decode().split('id="person-status"')[1].split("</div>")[0]
        assert "王**" in panel and "弹窗③" in panel and RESIDENT not in panel
        log = AccessLog.objects.get(actor__username="op_1")
        assert log.via == "admin" and appeal.tracking_number in log.why
        assert appeal.tracking_number in r.content.decode().split('id="preview-item"')[1]
        # Another centre's operator has no appeal about the person: the neutral answer, no log.
        other = login("op_2").post(reverse(ADD), {**INTAKE, "_check": "1"})
        assert 'id="preview-pending"' in other.content.decode() and "王**" not in other.content.decode()
        assert not AccessLog.objects.filter(actor__username="op_2").exists()


def test_checks_past_the_limit_are_refused_on_the_form(flagged, settings):
    settings.LOOKUP_LIMITS = {**settings.LOOKUP_LIMITS, "appeal_preview": "3/10m"}
    with time_machine.travel(at(2021, 8, 16, 10), tick=False):
        open_appeal()
        op = login("op_1")
        for idn in (UNKNOWN, RESIDENT, UNKNOWN):
            assert op.post(reverse(ADD), {**INTAKE, "id_number": idn, "_check": "1"}).status_code == 200
        r = op.post(reverse(ADD), {**INTAKE, "_check": "1"})
        assert r.status_code == 429
        page = r.content.decode()
        assert r.context["form"].non_field_errors() and 'id="person-status"' not in page
        assert RESIDENT in page, "the typed ID is kept"
        # Opening is a look-up too: locked out as well, and nothing is opened.
        r = op.post(reverse(ADD), {**INTAKE, "id_number": TRAVELLER, "_open": "1"})
        assert r.status_code == 429 and Appeal.objects.count() == 1


# --- opening --------------------------------------------------------------------------------------


def test_the_operator_opens_an_appeal_and_sees_its_page(flagged):
    with time_machine.travel(at(2021, 8, 16, 10), tick=False):
        op = login("op_1")
        r = op.post(reverse(ADD), {**INTAKE, "_open": "1"})
        appeal = Appeal.objects.get()
        assert r.status_code == 302 and r["Location"] == page_of(appeal)
        assert appeal.routed_to.code == "CA" and appeal.opened_by.username == "op_1"
        page = op.get(r["Location"]).content.decode()
        assert "13812345678" not in page and "138****5678" in page and 'id="step-route"' in page
        assert 'id="step-resolve"' not in page, "operators do not resolve"
        assert appeal.tracking_number in page


def test_an_unknown_id_is_an_error_on_the_field_and_creates_nobody(flagged):
    persons = Person.objects.count()
    with time_machine.travel(at(2021, 8, 16, 10), tick=False):
        r = login("op_1").post(reverse(ADD), {**INTAKE, "id_number": UNKNOWN, "_open": "1"})
    assert r.status_code == 404
    with translation.override("zh-hans"):
        unknown = _("No person with this ID is on record. Check the ID type and number with the caller.")
    assert r.context["form"].errors["id_number"] == [unknown]
    assert f'value="{UNKNOWN}"' in r.content.decode() and "社区已核验但仍弹窗" in r.content.decode()
    assert Person.objects.count() == persons and not Appeal.objects.exists()


def test_the_intake_renames_nobody(flagged):
    assert "name" not in login("op_1").get(reverse(ADD)).context["form"].fields
    with time_machine.travel(at(2021, 8, 16, 10), tick=False):
        login("op_1").post(reverse(ADD), {**INTAKE, "id_number": TRAVELLER, "name": "张三", "_open": "1"})
    appeal = Appeal.objects.get()
    assert appeal.person.name == "欧阳娜娜"


# --- the list -------------------------------------------------------------------------------------


def test_overdue_appeals_are_highlighted_and_filtered(flagged):
    with time_machine.travel(at(2021, 8, 16, 10), tick=False):
        login("op_1").post(reverse(ADD), {**INTAKE, "_open": "1"})
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
        appeal = open_appeal()
        cb = Organisation.objects.get(code="CB")
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
        r = login("worker_b").post(
            step_url(appeal, "resolve"),
            {"resolve-resolution": "已远程核验，解除弹窗", "resolve-release_popups": "on", **CHECKED},
        )
        assert r.status_code == 302
        appeal.refresh_from_db()
        assert appeal.status == "resolved"
        assert w.status(RESIDENT)["state"] == "green"


# --- the steps on the appeal's page -----------------------------------------------------------------


def test_every_step_form_stands_alone_outside_the_change_form(flagged):
    with time_machine.travel(at(2021, 8, 16, 10), tick=False):
        appeal = open_appeal()
        for username, steps in (
            ("op_1", {"itinerary", "release_on_call", "route", "reject"}),
            ("worker_a", {"start", "resolve", "reject"}),
        ):
            page = login(username).get(page_of(appeal)).content.decode()
            assert nested_forms(page) == [], username
            shown = set(re.findall(r'<form method="post" action="[^"]+/step/(\w+)/#step-\1"', page))
            assert shown == steps, username
            # The change form, each step's form, and the log-out form of the header.
            assert form_count(page) == 1 + len(steps) + 1


def test_the_operator_re_routes_on_the_page(flagged):
    with time_machine.travel(at(2021, 8, 16, 10), tick=False):
        appeal = open_appeal()
        cb = Organisation.objects.get(code="CB")
        op = login("op_1")
        r = op.post(step_url(appeal, "route"), {"route-routed_to": cb.pk, "route-reason": "来电人实际住在CB"})
        assert r.status_code == 302 and r["Location"] == page_of(appeal) + "#content-start"
        appeal.refresh_from_db()
        assert appeal.routed_to == cb and appeal.routing_basis == "manual"
        page = op.get(r["Location"]).content.decode()
        with translation.override("zh-hans"):
            done = _("Appeal %(n)s re-routed to %(to)s.") % {"n": appeal.tracking_number, "to": cb.name}
        assert done in page
        # Routing it where it already is: an error on the field, the reason kept.
        r = op.post(step_url(appeal, "route"), {"route-routed_to": cb.pk, "route-reason": "再次改派"})
        assert r.status_code == 200
        assert r.context["steps"][[s["name"] for s in r.context["steps"]].index("route")]["form"].errors["routed_to"]
        assert "再次改派" in r.content.decode()
        assert appeal.events.count() == 2


def test_a_checklist_error_keeps_the_resolution_written(flagged):
    with time_machine.travel(at(2021, 8, 16, 10), tick=False):
        appeal = open_appeal()
        worker = login("worker_a")
        assert worker.post(step_url(appeal, "start"), {"start-note": "开始核验"}).status_code == 302
        appeal.refresh_from_db()
        assert appeal.status == "in_progress"
        written = "已远程核验14天行程，无中高风险地区旅居史"
        r = worker.post(
            step_url(appeal, "resolve"),
            {"resolve-resolution": written, "resolve-release_popups": "on", "resolve-itinerary_verified": "on"},
        )
        assert r.status_code == 200
        page = r.content.decode()
        assert nested_forms(page) == []
        resolve = next(s for s in r.context["steps"] if s["name"] == "resolve")
        assert set(resolve["form"].errors) == {"nat_negative", "commitment_signed"}
        textarea = page.split('id="id_resolve-resolution"')[1].split("</textarea>")[0]
        assert written in textarea, "the typed resolution survives the checklist error"
        assert 'name="resolve-itinerary_verified" id="id_resolve-itinerary_verified" checked' in page
        appeal.refresh_from_db()
        assert appeal.status == "in_progress" and flagged.status(RESIDENT)["state"] == "popup"
        r = worker.post(
            step_url(appeal, "resolve"), {"resolve-resolution": written, "resolve-release_popups": "on", **CHECKED}
        )
        assert r.status_code == 302
        appeal.refresh_from_db()
        assert appeal.status == "resolved" and flagged.status(RESIDENT)["state"] == "green"
        messages = [str(m) for m in worker.get(page_of(appeal)).context["messages"]]
        assert any(appeal.tracking_number in m for m in messages)


def test_the_community_rejects_on_the_page(flagged):
    with time_machine.travel(at(2021, 8, 16, 10), tick=False):
        appeal = open_appeal()
        r = login("worker_a").post(step_url(appeal, "reject"), {"reject-reason": ""})
        assert r.status_code == 200 and "reason" in r.context["steps"][-1]["form"].errors
        r = login("worker_a").post(step_url(appeal, "reject"), {"reject-reason": "非健康码问题，已告知来电人"})
        assert r.status_code == 302
        appeal.refresh_from_db()
        assert appeal.status == "rejected"
        page = login("worker_a").get(page_of(appeal)).content.decode()
        assert 'id="appeal-steps"' not in page, "a closed appeal offers no step"


def test_a_step_the_service_refuses_is_said_in_words_with_the_input_kept(flagged):
    with time_machine.travel(at(2021, 8, 16, 10), tick=False):
        appeal = open_appeal()
        # The role: an operator does not resolve.
        r = login("op_1").post(step_url(appeal, "resolve"), {"resolve-resolution": "我来办结"})
        assert r.status_code == 403
        page = r.content.decode()
        assert 'id="step-refused"' in page and appeal.tracking_number in page
        with translation.override("zh-hans"):
            role = _("Your role may not %(action)s.") % {"action": _("resolve appeals")}
            assert r.context["step_refused"] == _("This step was refused: %(why)s") % {"why": role}
        # The jurisdiction: the CDC follows every appeal but resolves only those routed to a CDC.
        r = login("cdc_1").post(step_url(appeal, "resolve"), {"resolve-resolution": "疾控办结"})
        assert r.status_code == 404 and 'id="step-refused"' in r.content.decode()
        with translation.override("zh-hans"):
            elsewhere = _("This step was refused: the appeal is routed to another organisation, which takes it.")
        assert r.context["step_refused"] == elsewhere
        assert 'id="step-resolve"' not in r.content.decode(), "a step the user may not take is not offered"
        appeal.refresh_from_db()
        assert appeal.status == "routed"


def test_a_step_on_an_appeal_no_longer_followed_says_so(flagged):
    with time_machine.travel(at(2021, 8, 16, 10), tick=False):
        appeal = open_appeal()
        services.appeal_route(
            actor=get_user_model().objects.get(username="op_1"), appeal_id=appeal.pk, to="CB", reason="改派"
        )
        r = login("worker_a").post(step_url(appeal, "start"), {"start-note": ""})
        assert r.status_code == 404 and 'id="step-refused"' in r.content.decode()
        missing = login("worker_a").post(reverse("admin:appeals_appeal_step", args=[10**9, "start"]), {})
        assert missing.status_code == 404
        assert neutral(missing.content.decode()) == neutral(r.content.decode())
        for bad in ("abc", "1%00"):
            assert login("worker_a").post(f"/admin/appeals/appeal/{bad}/step/start/", {}).status_code == 404
            assert login("op_1").get(f"/admin/appeals/appeal/{bad}/change/").status_code in (302, 404)
        appeal.refresh_from_db()
        assert appeal.status == "routed"


def test_the_change_form_itself_takes_no_post(flagged):
    with time_machine.travel(at(2021, 8, 16, 10), tick=False):
        appeal = open_appeal()
        assert login("worker_a").post(page_of(appeal), {"resolve-resolution": "x"}).status_code == 403


def test_a_refusal_of_a_step_offered_is_said_beside_its_button(flagged, monkeypatch):
    """The page offered the step, the service refused it (the rules changed in between, say): the
    message stands in the step's form, with the note typed."""
    from apps.core.errors import NotPermitted

    def refuse(**kwargs):
        raise NotPermitted("不允许")

    with time_machine.travel(at(2021, 8, 16, 10), tick=False):
        appeal = open_appeal()
        monkeypatch.setattr(services, "appeal_start", refuse)
        r = login("worker_a").post(step_url(appeal, "start"), {"start-note": "已联系来电人"})
    assert r.status_code == 403
    page = r.content.decode()
    errors = page.split('id="step-start-errors"')[1].split("</ul>")[0]
    assert "不允许" in errors and 'id="step-refused"' not in page
    assert 'value="已联系来电人"' in page


def test_a_service_error_on_a_step_lands_on_its_field_with_the_resolution_kept(flagged, monkeypatch):
    def refuse(**kwargs):
        raise ValidationError({"resolution": ["请写明核实结果。"], "popups": ["弹窗已变化。"]})

    with time_machine.travel(at(2021, 8, 16, 10), tick=False):
        appeal = open_appeal()
        monkeypatch.setattr(services, "appeal_resolve", refuse)
        written = "已核实，解除"
        r = login("worker_a").post(step_url(appeal, "resolve"), {"resolve-resolution": written})
    assert r.status_code == 200
    resolve = next(s for s in r.context["steps"] if s["name"] == "resolve")
    assert resolve["form"].errors == {"resolution": ["请写明核实结果。"], "__all__": ["弹窗已变化。"]}
    page = r.content.decode()
    assert written in page.split('id="id_resolve-resolution"')[1].split("</textarea>")[0]
    assert "弹窗已变化。" in page.split('id="step-resolve-errors"')[1].split("</ul>")[0]


def test_a_step_on_an_appeal_closed_meanwhile_says_why_at_the_top(flagged):
    with time_machine.travel(at(2021, 8, 16, 10), tick=False):
        appeal = open_appeal()
        services.appeal_reject(
            actor=get_user_model().objects.get(username="op_1"), appeal_id=appeal.pk, reason="重复来电"
        )
        r = login("worker_a").post(step_url(appeal, "resolve"), {"resolve-resolution": "已核实"})
    assert r.status_code == 409
    appeal.refresh_from_db()
    with translation.override("zh-hans"):
        closed = _("This appeal is %(status)s: it can no longer be changed.") % {"status": appeal.get_status_display()}
    assert r.context["step_refused"] == closed and 'id="step-refused"' in r.content.decode()
    assert 'id="appeal-steps"' not in r.content.decode()
