"""The full identity of one person (`/admin/casework/persons/<ref>/identity/`): only community
workers in their jurisdiction and the CDC see it, for a reason that goes into the access log, on
that one response (never cached, never on the person page). And the Content Security Policy of
the admin: the portal's own scripts only, no inline script or style attribute on its pages, no
framing."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from apps.accounts.models import Organisation, User
from apps.appeals.models import Appeal
from apps.audit.models import AccessLog
from apps.people.models import Person
from tests.api.helpers import RISK_COUNTY, iso, rid, stay

WANG = rid("11010519900101123")  # lives in community CA
ZHAO = rid("11010519700615005")  # lives in community CB
PHONE = "13812345678"
REASON = "上门核查，需核对身份证"


def staff_client(username: str) -> Client:
    c = Client()
    c.force_login(User.objects.get(username=username))
    return c


@pytest.fixture
def people(staff):
    """王小明 of community CA, with a phone, popup ③ (a stay in a county turned medium risk), an
    appeal routed to CA and a stay at hotel H1; 赵六 of community CB."""
    phones = [{"number": PHONE, "channel": "wechat", "bound_at": iso(2021, 1, 1)}]
    staff.wang = Person.objects.get(ref=staff.person(WANG, name="王小明", community="CA", phones=phones))
    staff.zhao = Person.objects.get(ref=staff.person(ZHAO, name="赵六", community="CB"))
    staff.feed("stays", stay(WANG, "G1", RISK_COUNTY, iso(2021, 7, 20, 8), iso(2021, 7, 22, 8)))
    staff.designate(RISK_COUNTY, "medium", iso(2021, 7, 28, 0))
    assert [p["number"] for p in staff.status(WANG)["popups"]] == [3]
    Appeal.objects.create(
        tracking_number="A-1",
        person=staff.wang,
        channel="12345",
        category="wrongly_flagged",
        description="认为弹窗是误伤",
        status="routed",
        routed_to=Organisation.objects.get(code="CA"),
        due_at=iso(2021, 7, 30, 10),
        opened_by=User.objects.get(username="op_1"),
    )
    r = staff.hotel.post(
        "/api/v1/hotel-stays/", {"person": {"id_type": "resident_id", "id_number": ZHAO}}, format="json"
    )
    assert r.status_code == 201, r.content
    return staff


def reveal_url(person) -> str:
    return reverse("casework_admin:reveal", args=[person.ref])


def person_page(person) -> str:
    return reverse("admin:people_person_change", args=[person.pk])


def reveals() -> list[AccessLog]:
    return list(AccessLog.objects.filter(via="reveal"))


# --- who may see it -------------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["op_1", "hotel_1", "auditor_1", "policy_1"])
def test_roles_that_see_masked_data_only_get_403_whoever_the_person(people, username, clock):
    c = staff_client(username)
    for url in (reveal_url(people.wang), reveal_url(people.zhao), "/admin/casework/persons/NO-SUCH-REF/identity/"):
        assert c.get(url).status_code == 403
        assert c.post(url, {"reason": REASON}).status_code == 403
    assert reveals() == []


def test_a_community_worker_gets_404_outside_the_jurisdiction(people, clock):
    c = staff_client("worker_b")
    assert c.get(reveal_url(people.wang)).status_code == 404
    r = c.post(reveal_url(people.wang), {"reason": REASON})
    assert r.status_code == 404 and WANG not in r.content.decode()
    assert reveals() == []


@pytest.mark.parametrize("username", ["worker_a", "cdc_1"])
def test_the_form_asks_for_a_reason_and_shows_nothing_yet(people, username, clock):
    r = staff_client(username).get(reveal_url(people.wang))
    assert r.status_code == 200
    page = r.content.decode()
    assert 'name="reason"' in page
    assert WANG not in page and PHONE not in page
    assert reveals() == []


def test_the_reason_is_required(people, clock):
    r = staff_client("worker_a").post(reveal_url(people.wang), {"reason": "  "})
    assert r.status_code == 200
    assert list(r.context["form"].errors) == ["reason"]
    page = r.content.decode()
    assert 'id="errors-reason"' in page
    assert WANG not in page and PHONE not in page
    assert reveals() == []


@pytest.mark.parametrize("username", ["worker_a", "cdc_1"])
def test_with_a_reason_it_shows_the_clear_identity_once_and_logs_it(people, username, clock):
    r = staff_client(username).post(reveal_url(people.wang), {"reason": REASON, "why": "work queue: popup ③ #1"})
    assert r.status_code == 200
    assert "admin/casework/identity.html" in [t.name for t in r.templates]
    page = r.content.decode()
    assert f'id="identity-id">{WANG}<' in page
    assert "王小明" in page and PHONE in page
    assert "no-store" in r["Cache-Control"]

    (log,) = reveals()
    assert log.actor.username == username and log.person == people.wang
    assert REASON in log.why


def test_the_clear_id_is_never_on_the_person_page(people, clock):
    c = staff_client("worker_a")
    before = c.get(person_page(people.wang))
    assert before.status_code == 200
    assert c.post(reveal_url(people.wang), {"reason": REASON}).status_code == 200
    after = c.get(person_page(people.wang))
    for r in (before, after):
        page = r.content.decode()
        assert WANG not in page and PHONE not in page
        # It offers the way to the full identity instead.
        assert reveal_url(people.wang) in page


def test_the_person_page_offers_no_reveal_to_roles_without_it(people, clock):
    # The hotline sees the persons its appeals are about.
    r = staff_client("op_1").get(person_page(people.wang))
    assert r.status_code == 200
    page = r.content.decode()
    assert reveal_url(people.wang) not in page and WANG not in page


# --- Content Security Policy ---------------------------------------------------------------------------


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in header.split(";")) if d}


def test_admin_pages_carry_a_strict_content_security_policy(people, clock):
    r = staff_client("worker_a").get("/admin/casework/queue/")
    assert r.status_code == 200
    csp = policy(r)
    assert csp["script-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
    assert "'unsafe-inline'" not in csp.get("default-src", [])
    assert r["X-Frame-Options"] == "DENY"


def test_the_login_page_carries_it_too(db):
    r = Client().get("/admin/login/")
    assert r.status_code == 200
    assert policy(r)["script-src"] == ["'self'"]


SCRIPT = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"""\sstyle\s*=\s*["']""", re.IGNORECASE)


def csp_violations(page: str) -> list[str]:
    """Inline scripts (a <script> without src; a JSON data block is not run, so it passes) and
    style attributes: what `script-src 'self'` and `style-src 'self'` would block in a browser."""
    found = []
    for attrs in SCRIPT.findall(page):
        if "src=" not in attrs and 'type="application/json"' not in attrs:
            found.append(f"<script{attrs}>")
    found += [page[max(m.start() - 60, 0) : m.end() + 40] for m in STYLE_ATTRIBUTE.finditer(page)]
    return found


def pages(people) -> list[tuple[str, str]]:
    return [
        ("worker_a", "/admin/"),
        ("worker_a", "/admin/casework/queue/"),
        ("worker_a", person_page(people.wang)),
        ("worker_a", reveal_url(people.wang)),
        ("worker_a", "/admin/people/person/"),
        ("worker_a", "/admin/appeals/appeal/"),
        ("cdc_1", "/admin/casework/queue/"),
        ("hotel_1", "/admin/hotels/hotelstay/"),
        ("hotel_1", "/admin/hotels/currentguest/"),
        ("root", "/admin/people/person/"),
        ("root", "/admin/hotels/hotelstay/"),
        ("root", "/admin/appeals/appeal/"),
        ("root", "/admin/accounts/user/"),
        ("root", person_page(people.wang)),
    ]


def test_no_admin_page_has_an_inline_script_or_a_style_attribute(people, clock):
    found = {}
    for username, url in pages(people):
        r = staff_client(username).get(url)
        assert r.status_code == 200, (username, url)
        # The lists are not empty: their rows are scanned too.
        if "cl" in r.context:
            assert r.context["cl"].result_count > 0, (username, url)
        if "rows" in r.context:
            assert r.context["rows"], (username, url)
        violations = csp_violations(r.content.decode())
        if violations:
            found[(username, url)] = violations
    assert found == {}


def test_the_full_identity_and_second_factor_pages_have_none_either(people, clock, settings):
    c = staff_client("worker_a")
    shown = c.post(reveal_url(people.wang), {"reason": REASON})
    assert WANG in shown.content.decode()
    assert csp_violations(shown.content.decode()) == []
    setup = c.get("/admin/second-factor/")
    assert "<svg" in setup.content.decode()
    assert csp_violations(setup.content.decode()) == []


def test_the_checker_itself_catches_what_it_should():
    assert csp_violations('<script>alert(1)</script><p style="color:red">') != []
    assert csp_violations('<script src="/static/a.js"></script><script type="application/json">{}</script>') == []


def test_the_full_identity_is_rate_limited(people, clock, settings):
    settings.LOOKUP_LIMITS = {"default": "60/10m", "full_identity": "2/10m"}
    c = staff_client("worker_a")
    for _ in range(2):
        assert "admin/casework/identity.html" in [
            t.name for t in c.post(reveal_url(people.wang), {"reason": REASON}).templates
        ]
    r = c.post(reveal_url(people.wang), {"reason": REASON})
    # 429, as every screen answers a look-up past the limit (apps.core.admin_actions), with the
    # form and its reason kept and the refusal above it.
    assert r.status_code == 429 and r.context["form"].non_field_errors()
    assert r.context["form"]["reason"].value() == REASON
    assert WANG not in r.content.decode()
    assert len(reveals()) == 2
