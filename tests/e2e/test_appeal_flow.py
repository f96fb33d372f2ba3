"""In a real browser (Debian's Chromium driven by Playwright, against the live server): a 12345
operator files an appeal for a caller with popup ③ on the admin's intake form, after checking the
caller's masked status; the worker of the caller's community opens it from the appeal list and
resolves it, releasing the popup with the checklist; the caller is green. Screenshots of both
screens go to test-artifacts/e2e/.

Self-contained (its own browser fixture), so it does not depend on the shared e2e fixtures."""

import datetime as dt
import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from apps.appeals.models import Appeal
from apps.core.clock import now
from tests.api.helpers import RISK_COUNTY, last_line, rid, stay
from tests.e2e.conftest import _unavailable, requires_browser

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
IDN = rid("11010519900101123")
PASSWORD = "e2e-appeal-pass"


pytestmark = requires_browser


@pytest.fixture
def appeal_browser(monkeypatch):
    if not os.path.exists(CHROMIUM):
        _unavailable(f"{CHROMIUM} is missing: apt-get install -y chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is missing")
    # Playwright's sync API runs an event loop in this thread; the test's ORM calls are sequential.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"], headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def caller(transactional_db):
    """Areas, community CA, the hotline centre and its operator, a worker of CA, and a resident of
    CA with popup ③ (a stay in a county designated medium after they left)."""
    call_command("load_areas", stdout=io.StringIO())
    last_line("create_org", "D105", "--kind", "district", "--name", "朝阳区", "--area", "110105")
    last_line("create_org", "CA", "--kind", "community", "--name", "水岸家园社区", "--parent", "D105")
    last_line("create_org", "CDC", "--kind", "cdc", "--name", "市疾控")
    last_line("create_org", "HL12345", "--kind", "hotline", "--name", "12345热线")
    last_line("create_staff", "op_1", "--role", "hotline_operator", "--org", "HL12345", "--password", PASSWORD)
    last_line("create_staff", "worker_a", "--role", "community_worker", "--org", "CA", "--password", PASSWORD)
    feeds = APIClient()
    feeds.credentials(HTTP_AUTHORIZATION="Token " + last_line("create_partner", "feeds", "--scopes", "feeds"))
    policy = APIClient()
    policy.credentials(
        HTTP_AUTHORIZATION="Token " + last_line("create_staff", "policy_1", "--role", "policy_admin", "--org", "CDC")
    )
    body = {"id_type": "resident_id", "id_number": IDN, "name": "王小明", "community": "CA"}
    assert feeds.post("/api/v1/persons/", body, format="json").status_code in (200, 201)
    # The live server runs on the real clock: the evidence is dated relative to today.
    t = now()
    left = stay(IDN, "G1", RISK_COUNTY, (t - dt.timedelta(days=6)).isoformat(), (t - dt.timedelta(days=5)).isoformat())
    assert feeds.post("/api/v1/feeds/stays/", {"records": [left]}, format="json").status_code == 200
    designation = {
        "area_code": RISK_COUNTY,
        "level": "medium",
        "effective_from": (t - dt.timedelta(days=1)).isoformat(),
    }
    assert policy.post("/api/v1/risk-designations/", designation, format="json").status_code == 201


def log_in(browser, live_server, username):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 1000})
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("#login-form [type=submit]")
    return context, page


def test_an_operator_files_an_appeal_and_the_community_worker_resolves_it(caller, live_server, appeal_browser):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    # The operator takes the call, checks the caller's masked status, and opens the appeal.
    context, page = log_in(appeal_browser, live_server, "op_1")
    page.goto(f"{live_server.url}/admin/appeals/appeal/add/")
    page.select_option("#id_id_type", "resident_id")
    page.fill("#id_id_number", IDN)
    page.select_option("#id_channel", "12345")
    page.select_option("#id_category", "wrongly_flagged")
    page.fill("#id_description", "来电人称14天内未去过中高风险地区，健康宝弹窗③，无法返京")
    page.fill("#id_caller_phone", "13812345678")
    with page.expect_navigation():
        page.click("input[name=_check]")
    panel = page.locator("#person-status").inner_text()
    assert "王**" in panel and "弹窗③" in panel and IDN not in panel
    with page.expect_navigation():
        page.click("input[name=_open]")
    appeal = Appeal.objects.get()
    assert appeal.routed_to.code == "CA" and appeal.tracking_number in page.content()
    assert "138****5678" in page.content() and "13812345678" not in page.content()
    page.screenshot(path=str(ARTIFACTS / "appeal_flow_1_operator.png"), full_page=True)
    context.close()

    # The community worker finds it in the appeal list and resolves it with a release.
    context, page = log_in(appeal_browser, live_server, "worker_a")
    page.goto(f"{live_server.url}/admin/appeals/appeal/")
    with page.expect_navigation():
        page.click(f"text={appeal.tracking_number}")
    page.fill("#id_resolve-resolution", "已远程核验14天行程，无中高风险地区旅居史，解除弹窗")
    for item in ("release_popups", "itinerary_verified", "nat_negative", "commitment_signed"):
        page.check(f"#id_resolve-{item}")
    with page.expect_navigation():
        page.click("input[name=_resolve]")
    assert page.locator("#step-resolve").count() == 0
    assert "未见异常" in page.locator("#person-status").inner_text()
    page.screenshot(path=str(ARTIFACTS / "appeal_flow_2_resolved.png"), full_page=True)
    context.close()

    appeal.refresh_from_db()
    assert appeal.status == "resolved"
    assert [e.to_status for e in appeal.events.order_by("at", "pk")] == ["routed", "resolved"]
