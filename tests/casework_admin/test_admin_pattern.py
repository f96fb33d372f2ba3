"""The one pattern of the casework action screens (apps.core.admin_actions.ActionView), seen
through the screens: a service's field error lands on the field of its name with the typed input
kept, the access layer's refusals answer 403 and 404 to a POST and write nothing, a refusal of
the service is said on the form, and the why of the work item survives the POST into the access
log of the person page the action goes back to."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from apps.accounts.models import Organisation, User
from apps.audit.models import AccessLog, AuditEvent
from apps.casework import services
from apps.core.errors import NotFoundInJurisdiction, NotPermitted
from apps.status.models import Popup, Release
from tests.casework_admin.conftest import CHECKED, REASON, admin_client

WHY = "work queue: popup ③ #12"


def textarea(page: str, name: str) -> str:
    return page.split(f'name="{name}"')[1].split("</textarea>")[0]


def test_a_service_error_lands_on_the_field_of_its_name_and_the_typed_input_is_kept(case, clock, monkeypatch):
    def refuse(**kwargs):
        raise ValidationError({"reason": ["写明核实了什么。"], "attachments": ["附件过大。"]})

    monkeypatch.setattr(services, "popup_release", refuse)
    popup = Popup.objects.get(person=case.wang, ended_at__isnull=True)
    r = admin_client("worker_a").post(
        reverse("casework_admin:release", args=[case.wang.ref]),
        {"popup": popup.pk, "reason": REASON, "why": WHY, **CHECKED},
    )
    assert r.status_code == 200
    page = r.content.decode()
    assert "写明核实了什么。" in page.split('id="errors-reason"')[1].split("</ul>")[0]
    assert "附件过大。" in page.split('id="errors-form"')[1].split("</ul>")[0], "a name the form lacks: on top"
    assert REASON in textarea(page, "reason"), "the typed reason is shown again"
    assert 'name="nat_negative" id="id_nat_negative" checked' in page
    assert f'name="why" value="{WHY}"' in page
    assert not Release.objects.exists()


def test_a_conflict_is_said_on_top_with_the_reason_kept(case, clock):
    worker = User.objects.get(username="worker_a")
    order, _after = services.order_start(actor=worker, person=case.wang, kind="home", reason="居家观察")
    c = admin_client("worker_a")
    url = reverse("casework_admin:order_end", args=[order.pk])
    assert c.post(url, {"reason": "提前解除"}).status_code == 302
    r = c.post(url, {"reason": "再次解除", "why": WHY})
    assert r.status_code == 409
    page = r.content.decode()
    assert 'id="errors-form"' in page and "再次解除" in textarea(page, "reason")
    assert f'name="why" value="{WHY}"' in page


def test_a_refusal_of_the_community_chosen_is_said_on_that_field(case, clock, monkeypatch):
    def refuse(**kwargs):
        raise NotPermitted("只能迁入本社区。")

    monkeypatch.setattr(services, "person_change", refuse)
    other = Organisation.objects.get(code="CB")
    r = admin_client("worker_a").post(
        reverse("casework_admin:community", args=[case.wang.ref]), {"community": other.pk, "reason": "已搬家"}
    )
    assert r.status_code == 400
    page = r.content.decode()
    assert "只能迁入本社区。" in page.split('id="errors-community"')[1].split("</ul>")[0]
    assert "已搬家" in textarea(page, "reason")


SCREENS = {
    "release": lambda case: ({"popup": Popup.objects.get(person=case.wang, ended_at__isnull=True).pk, **CHECKED}),
    "order_start": lambda case: {"kind": "home", "days": "14"},
    "verify": lambda case: {"remote": "0", "note": "核实"},
    "reveal": lambda case: {},
    "community": lambda case: {"community": ""},
}


@pytest.mark.parametrize("screen", sorted(SCREENS))
@pytest.mark.parametrize(("username", "code"), [("hotel_1", 403), ("worker_b", 404)])
def test_the_access_layer_answers_a_post_with_403_or_404_and_nothing_is_written(case, clock, screen, username, code):
    events, looks = AuditEvent.objects.count(), AccessLog.objects.count()
    body = {"reason": REASON, "why": WHY, **SCREENS[screen](case)}
    r = admin_client(username).post(reverse(f"casework_admin:{screen}", args=[case.wang.ref]), body)
    assert r.status_code == code
    assert (AuditEvent.objects.count(), AccessLog.objects.count()) == (events, looks)


@pytest.mark.parametrize(
    ("refusal", "code"), [(NotPermitted("不允许"), 403), (NotFoundInJurisdiction("不在辖区"), 404)]
)
def test_a_refusal_of_the_access_layer_inside_the_service_answers_403_or_404(case, clock, monkeypatch, refusal, code):
    def refuse(**kwargs):
        raise refusal

    monkeypatch.setattr(services, "order_start", refuse)
    r = admin_client("worker_a").post(
        reverse("casework_admin:order_start", args=[case.wang.ref]), {"kind": "home", "days": "14", "reason": REASON}
    )
    assert r.status_code == code


def test_the_why_survives_the_post_into_the_access_log_of_the_person_page(case, clock):
    c = admin_client("worker_a")
    url = reverse("casework_admin:release", args=[case.wang.ref])
    page = c.get(url, {"why": WHY}).content.decode()
    assert f'name="why" value="{WHY}"' in page
    popup = Popup.objects.get(person=case.wang, ended_at__isnull=True)
    # An error on the form: the why is posted back again with the page.
    r = c.post(url, {"popup": popup.pk, "reason": REASON, "why": WHY, "itinerary_verified": "on"})
    assert r.status_code == 200 and f'name="why" value="{WHY}"' in r.content.decode()
    r = c.post(url, {"popup": popup.pk, "reason": REASON, "why": WHY, **CHECKED})
    assert r.status_code == 302 and parse_qs(urlsplit(r.url).query)["why"] == [WHY]
    assert c.get(r.url).status_code == 200
    logged = list(AccessLog.objects.filter(person=case.wang).order_by("pk").values_list("why", "via"))
    assert logged == [(WHY, "admin"), (WHY, "admin")], "the action page and the person page it went back to"


def test_the_end_the_service_refuses_is_said_on_the_days_it_came_from(case, clock, monkeypatch):
    def refuse(**kwargs):
        raise ValidationError({"ends_at": ["The order must end after it starts."]})

    monkeypatch.setattr(services, "order_start", refuse)
    r = admin_client("worker_a").post(
        reverse("casework_admin:order_start", args=[case.wang.ref]), {"kind": "home", "days": "14", "reason": REASON}
    )
    assert r.status_code == 200 and set(r.context["form"].errors) == {"days"}
    assert 'id="errors-days"' in r.content.decode() and 'value="14"' in r.content.decode()
