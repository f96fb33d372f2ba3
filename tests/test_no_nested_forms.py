"""No <form> inside another on any page of the portal (issue 12, finding 7: the appeal page's steps
sat inside the admin's change form; the browser dropped them, and every step answered a bare 403).

Django's test client does not parse HTML, so each page is parsed here (tests/nested_forms.py).
The pages are found as a person finds them: every persona (an insider of each role, and a
superuser, who is offered every button) starts at the admin's index and follows every link
inside the admin, GET only, breadth first; then the pages only a POST shows are added — an
intake check, the appeal page after a refused or invalid step, an action form with its errors,
the full identity, the second factor. The crawl also asserts it reached the pages the issue is
about, so a shrinking crawl cannot pass by seeing less."""

import re
from collections import Counter, deque
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import time_machine
from django.conf import settings as settings_module
from django.contrib.auth import get_user_model
from django.template import engines
from django.template.base import Lexer, TokenType
from django.template.loader import get_template
from django.test import Client
from django.urls import Resolver404, resolve, reverse

from apps.appeals import services as appeal_services
from apps.casework import services as casework_services
from apps.evidence.models import ObservationOrder
from apps.people.models import Person
from tests.api.helpers import RISK_COUNTY, at, iso, rid, stay
from tests.nested_forms import form_count, nested_forms

WANG = rid("11010519900101123")  # resident of CA, popup ③, a home order, an appeal
LI = rid("32100319850101002")  # no community: a registration with CA, a guest of hotel H1
T = at(2021, 8, 16, 10)
MAX_PAGES = 400  # per persona; the crawl fails when it would need more (see below)
PER_ROUTE = 3  # pages of one URL pattern (one template): 3 areas of the country's 3,000 are enough
SKIPPED = ("/admin/logout/", "/admin/jsi18n/", "/admin/r/", "/admin/autocomplete/")


@pytest.fixture
def portal(world, django_user_model):
    """`world`, plus a hotline centre, an auditor, a culture-and-tourism officer and a superuser;
    Wang (CA) with popup ③, a home order, a verification and an open appeal; Li with a pending
    registration with CA and a stay at hotel H1."""
    w = world
    with time_machine.travel(at(2021, 8, 16, 9), tick=False):
        w.personas.build("op_1", "auditor_1", "officer_1")
        w.personas.superuser()
        w.person(WANG, community="CA")
        w.person(LI, name="欧阳娜娜")
        w.feed("stays", stay(WANG, "G1", RISK_COUNTY, iso(2021, 8, 10, 8), iso(2021, 8, 11, 8)))
        w.designate(RISK_COUNTY, "medium", iso(2021, 8, 15, 0))
        body = {"id_type": "resident_id", "id_number": LI, "community": "CA", "arriving_at": iso(2021, 8, 16, 18)}
        assert w.gate.post("/api/v1/community-registrations/", body, format="json").status_code == 201
        guest = {"person": {"id_type": "resident_id", "id_number": LI}}
        assert w.hotel.post("/api/v1/hotel-stays/", guest, format="json").status_code == 201
        users = get_user_model().objects
        wang = Person.objects.get(ref=w.person(WANG, community="CA"))
        worker = users.get(username="worker_a")
        casework_services.itinerary_verify(actor=worker, person=wang, note="电话核实", remote=True)
        casework_services.order_start(actor=worker, person=wang, kind="home", reason="居家观察", origin="admin")
        w.appeal = appeal_services.appeal_open(
            actor=users.get(username="op_1"),
            id_type="resident_id",
            id_number=WANG,
            channel="12345",
            category="wrongly_flagged",
            description="来电人称弹窗是误伤",
            origin="admin",
        )
    w.wang = wang
    return w


class _Links(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def _links(base: str, html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return [urljoin(base, href) for href in parser.hrefs]


def _admin_path(url: str) -> str | None:
    """The path a link leads to inside the admin (the query dropped: a filtered list is the same
    template), or None for a link out of it, to a file, or to a page that acts when opened."""
    parts = urlsplit(url)
    if parts.netloc not in ("", "testserver") or not parts.path.startswith("/admin/"):
        return None
    if parts.path.startswith(SKIPPED) or parts.path.endswith("/delete/"):
        return None
    return parts.path


def _page(response) -> str | None:
    kind = response.get("Content-Type", "")
    return response.content.decode() if kind.startswith("text/html") else None


def _route(path: str) -> str:
    try:
        return resolve(path).route
    except Resolver404:
        return path


def crawl(c: Client, starts: list[str]) -> dict[str, str]:
    """Every kind of admin page reachable from `starts` by links: {path: html} of each HTML page
    that answered 200 (redirects followed inside the admin), at most PER_ROUTE of one URL
    pattern — the same view and template for another row."""
    seen, per_route, pages, queue = set(), Counter(), {}, deque()

    def visit(target: str | None) -> None:
        if target is None or target in seen:
            return
        seen.add(target)
        route = _route(target)
        if per_route[route] < PER_ROUTE:
            per_route[route] += 1
            queue.append(target)

    for start in starts:
        visit(start)
    while queue:
        url = queue.popleft()
        assert len(pages) < MAX_PAGES, f"more than {MAX_PAGES} pages: raise MAX_PAGES or narrow the crawl"
        response = c.get(url)
        if response.status_code in (301, 302):
            visit(_admin_path(urljoin(url, response["Location"])))
            continue
        html = _page(response)
        if response.status_code != 200 or html is None:
            continue
        pages[url] = html
        for link in _links(url, html):
            visit(_admin_path(link))
    return pages


def login(username: str) -> Client:
    c = Client()
    c.force_login(get_user_model().objects.get(username=username))
    return c


def assert_alone(pages: dict[str, str]) -> None:
    problems = {url: nested for url, html in pages.items() if (nested := nested_forms(html))}
    assert problems == {}, "forms inside forms: " + "; ".join(f"{u}: {p}" for u, p in problems.items())


# Who crawls, and pages each must have reached (path patterns): the pages of the issue.
PERSONAS = {
    "root": [r"/admin/appeals/appeal/\d+/change/", r"/admin/people/person/\d+/change/", r"/admin/casework/"],
    "worker_a": [
        r"/admin/appeals/appeal/\d+/change/",
        r"/admin/people/person/\d+/change/",
        r"/admin/casework/queue/",
        r"/admin/casework/persons/[^/]+/release/",
        r"/admin/casework/persons/[^/]+/orders/new/",
        r"/admin/casework/orders/\d+/end/",
        r"/admin/casework/persons/[^/]+/verify/",
        r"/admin/casework/persons/[^/]+/identity/",
        r"/admin/casework/registrations/\d+/decide/",
    ],
    "cdc_1": [r"/admin/appeals/appeal/\d+/change/", r"/admin/people/person/\d+/change/"],
    "op_1": [r"/admin/appeals/appeal/\d+/change/", r"/admin/appeals/appeal/add/"],
    "hotel_1": [r"/admin/hotels/hotelstay/check-in/", r"/admin/hotels/hotelstay/import/"],
    "officer_1": [r"/admin/hotels/"],
    "auditor_1": [r"/admin/audit/"],
    "policy_1": [r"/admin/areas/", r"/admin/policy/"],
}


@pytest.mark.parametrize("username", list(PERSONAS))
def test_no_page_a_persona_can_reach_nests_a_form(portal, username):
    with time_machine.travel(T, tick=False):
        pages = crawl(login(username), ["/admin/"])
    assert_alone(pages)
    for pattern in PERSONAS[username]:
        assert any(re.search(pattern, url) for url in pages), f"{username} never reached {pattern}"


def test_the_appeal_page_has_one_form_per_step_beside_the_change_form(portal):
    page_url = reverse("admin:appeals_appeal_change", args=[portal.appeal.pk])
    with time_machine.travel(T, tick=False):
        for username, steps in (("op_1", 4), ("worker_a", 3), ("root", 6)):
            html = login(username).get(page_url).content.decode()
            assert nested_forms(html) == []
            # the change form, the steps, the header's log-out form
            assert form_count(html) == 1 + steps + 1, username


def test_no_page_shown_after_a_post_nests_a_form(portal, settings):
    w, pages = portal, {}
    step = "admin:appeals_appeal_step"
    with time_machine.travel(T, tick=False):
        op, worker = login("op_1"), login("worker_a")
        intake = reverse("admin:appeals_appeal_add")
        pages["check"] = op.post(intake, {"id_type": "resident_id", "id_number": WANG, "_check": "1"})
        pages["check-neutral"] = op.post(intake, {"id_type": "resident_id", "id_number": LI, "_check": "1"})
        pages["open-unknown"] = op.post(
            intake,
            {
                "id_type": "resident_id",
                "id_number": rid("11010519800202002"),
                "channel": "12345",
                "category": "wrongly_flagged",
                "description": "x",
                "_open": "1",
            },
        )
        pages["route-invalid"] = op.post(reverse(step, args=[w.appeal.pk, "route"]), {"route-reason": ""})
        pages["resolve-refused"] = op.post(reverse(step, args=[w.appeal.pk, "resolve"]), {"resolve-resolution": "x"})
        pages["resolve-checklist"] = worker.post(
            reverse(step, args=[w.appeal.pk, "resolve"]),
            {"resolve-resolution": "已核验", "resolve-release_popups": "on"},
        )
        pages["step-unknown-appeal"] = worker.post(reverse(step, args=[10**9, "start"]), {})
        ref = w.wang.ref
        pages["release-errors"] = worker.post(reverse("casework_admin:release", args=[ref]), {"reason": ""})
        pages["order-errors"] = worker.post(reverse("casework_admin:order_start", args=[ref]), {"reason": ""})
        pages["verify-errors"] = worker.post(reverse("casework_admin:verify", args=[ref]), {"note": ""})
        pages["identity"] = worker.post(reverse("casework_admin:reveal", args=[ref]), {"reason": "电话联系本人"})
        order = ObservationOrder.objects.get(person=w.wang)
        pages["order-end-errors"] = worker.post(reverse("casework_admin:order_end", args=[order.pk]), {"reason": ""})
        pages["check-in-errors"] = login("hotel_1").post(reverse("admin:hotels_hotelstay_check_in"), {})
        pages["login"] = Client().get(reverse("admin:login"))
        settings.STAFF_OTP_REQUIRED = True
        pages["second-factor"] = login("worker_a").get("/admin/", follow=True)
    assert "second-factor" in pages["second-factor"].request["PATH_INFO"]
    for name, response in pages.items():
        html = _page(response)
        assert html is not None and "<form" in html, f"{name}: {response.status_code} shows no form"
        assert nested_forms(html) == [], name


def test_the_check_finds_a_nested_form():
    """The parser sees what a browser would silently drop."""
    nested = '<form id="outer" method="post"><div><form id="inner" action="/x/"></form></div></form>'
    assert len(nested_forms(nested)) == 1 and "inner" in nested_forms(nested)[0]
    assert nested_forms('<form id="a"></form><form id="b"></form>') == []
    assert "never closed" in nested_forms('<form id="a">')[0]
    assert nested_forms("<script>var s = '<form><form>';</script>") == []


# --- every template of the portal, read as written -------------------------------------------------
# What no crawl can promise (a page only some state shows), the templates' source can: a template
# that opens a form opens no other inside it, neither itself nor through an {% include %}, and a
# template that fills a block its parent (the admin's change form, change list…) renders inside a
# form puts no form there.

FORM_TAG = re.compile(r"<(/?)form\b", re.IGNORECASE)
PROJECT_TEMPLATES = [
    path.relative_to(root).as_posix()
    for root in (
        Path(settings_module.BASE_DIR) / "templates",
        *sorted(Path(settings_module.BASE_DIR).glob("apps/*/templates")),
    )
    for path in sorted(root.rglob("*.html"))
]


def _tokens(source: str):
    """The template's tokens outside {% comment %} blocks, as (kind, text)."""
    skipping = 0
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            word = token.contents.split()[0] if token.contents else ""
            if word == "comment":
                skipping += 1
                continue
            if word == "endcomment":
                skipping -= 1
                continue
        if skipping:
            continue
        if token.token_type == TokenType.TEXT:
            yield "text", token.contents
        elif token.token_type == TokenType.BLOCK:
            yield "tag", token.contents


def _source(name: str) -> str:
    return get_template(name).template.source


def _included(tag: str) -> str | None:
    parts = tag.split()
    if parts[0] == "include" and len(parts) > 1 and parts[1][0] in "\"'":
        return parts[1].strip("\"'")
    return None


def _parent(source: str) -> str | None:
    for kind, text in _tokens(source):
        if kind == "tag" and text.split()[0] == "extends":
            return text.split()[1].strip("\"'")
    return None


def _has_form(name: str, seen=()) -> bool:
    """Whether the template, or one it includes, writes a <form>."""
    for kind, text in _tokens(_source(name)):
        if kind == "text" and FORM_TAG.search(text):
            return True
        included = _included(text) if kind == "tag" else None
        if included and included not in seen and _has_form(included, (*seen, name)):
            return True
    return False


def _walk(source: str):
    """(event, value, form depth, open blocks) along the template: 'form' for each <form>,
    'include' for each constant {% include %}."""
    depth, blocks = 0, []
    for kind, text in _tokens(source):
        if kind == "tag":
            word = text.split()[0]
            if word == "block":
                blocks.append(text.split()[1])
            elif word == "endblock":
                blocks.pop()
            elif (included := _included(text)) is not None:
                yield "include", included, depth, tuple(blocks)
            continue
        for match in FORM_TAG.finditer(text):
            if match.group(1):
                depth = max(0, depth - 1)
            else:
                yield "form", match.start(), depth, tuple(blocks)
                depth += 1


def _blocks_inside_forms(name: str) -> set[str]:
    """The blocks the ancestors of template `name` render inside one of their forms. An ancestor
    of the same name (templates/admin/index.html extends the admin's own) is found past the
    templates already in the chain, as {% extends %} does."""
    engine = engines["django"].engine
    template, origin = engine.find_template(name)
    history, inside = [origin], set()
    parent = _parent(template.source)
    while parent:
        template, origin = engine.find_template(parent, skip=history)
        history.append(origin)
        depth, blocks = 0, []
        for kind, text in _tokens(template.source):
            if kind == "tag":
                word = text.split()[0]
                if word == "block":
                    blocks.append(text.split()[1])
                    if depth:
                        inside.add(blocks[-1])
                elif word == "endblock":
                    blocks.pop()
                continue
            for match in FORM_TAG.finditer(text):
                depth = max(0, depth - 1) if match.group(1) else depth + 1
        parent = _parent(template.source)
    return inside


@pytest.mark.parametrize("name", PROJECT_TEMPLATES)
def test_no_template_puts_a_form_inside_another(name):
    source = _source(name)
    inside_parent = _blocks_inside_forms(name)
    problems = []
    for event, value, depth, blocks in _walk(source):
        where = set(blocks) & inside_parent
        writes_form = event == "form" or _has_form(value)
        if writes_form and (depth or where):
            what = "a <form>" if event == "form" else f"{{% include {value!r} %}}, which writes a form,"
            why = "inside its own form" if depth else f"in block {sorted(where)}, inside a form of its parent"
            problems.append(f"{what} {why}")
    assert problems == []


def test_the_template_scan_sees_a_form_in_a_block_of_the_change_form():
    change_form = _blocks_inside_forms("appeals/admin/appeal_change_form.html")
    assert {"after_related_objects", "form_top", "field_sets", "submit_buttons_bottom"} <= change_form
    assert "content" not in change_form and "object-tools" not in change_form
    assert {"result_list", "pagination"} <= _blocks_inside_forms("hotels/admin/hotelstay_change_list.html")
    assert len(PROJECT_TEMPLATES) >= 20
