"""Shared fixtures of the browser tests: Debian's Chromium driven by Playwright against pytest-django's
live server (static files served), and a helper that logs a staff user into the admin.

Without /usr/bin/chromium (or the playwright package) the browser tests are skipped on a
developer's machine, and fail in CI, which sets HEALTHKIT_REQUIRE_SERVICES. The browser is never
downloaded (`playwright install` is not used): CI installs Debian's package (.ci/run).

    def test_something(live_server, staff_page):
        page = staff_page("worker_a", "a-password")   # logged in, on the page the login lands on
        page.goto(live_server.url + "/admin/…")
"""

import os
from collections.abc import Callable
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
TIMEOUT_MS = 20_000


def _browser_missing() -> str:
    if not os.path.exists(CHROMIUM):
        return f"{CHROMIUM} is missing: apt-get install -y chromium"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (requirements-dev.txt)"
    return ""


# Browser tests are skipped only on a machine without Chromium and only when services are not
# required; CI sets HEALTHKIT_REQUIRE_SERVICES, so there a missing browser fails the run.
requires_browser = pytest.mark.skipif(
    bool(_browser_missing()) and not os.environ.get("HEALTHKIT_REQUIRE_SERVICES"),
    reason=_browser_missing() or "-",
)


def _unavailable(why: str):
    pytest.fail(f"{why} (the browser tests must run: HEALTHKIT_REQUIRE_SERVICES is set)")


@pytest.fixture
def browser(monkeypatch):
    """A headless Chromium for one test.

    Playwright's sync API keeps an asyncio event loop running in the test's thread for as long
    as it is started, and Django refuses ORM calls under a running loop (SynchronousOnlyOperation).
    The test drives one thing at a time, so its ORM calls are safe: they are allowed while the
    browser runs, and the browser stops at the end of each test, so the tests that follow (and
    the database teardown) run without a loop."""
    if not os.path.exists(CHROMIUM):
        _unavailable(f"{CHROMIUM} is missing: apt-get install -y chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is missing: pip install -r requirements-dev.txt")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser context (no cookies) in Chinese, at a desktop size. The test fails if any
    page it opened broke the Content Security Policy (a blocked inline script or style) or threw a
    script error: what the policy blocks silently would otherwise go unnoticed."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    problems: list[str] = []
    tab.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    tab.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    yield tab
    context.close()
    assert problems == [], f"the browser reported: {problems}"


@pytest.fixture
def artifacts() -> Path:
    """Where screenshots go (git-ignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def staff_page(page, live_server) -> Callable:
    """Log a staff user into the admin through its login form; returns the page, where the login
    landed (the work queue for a community worker, the index for others)."""

    def log_in(username: str, password: str):
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        with page.expect_navigation():
            page.click("#login-form [type=submit]")
        assert "/admin/login/" not in page.url, f"{username} could not log in"
        return page

    return log_in
