"""Shared fixtures of the browser tests: Debian's Chromium driven by Playwright against pytest-django's
live server (static files served), and a helper that logs a staff user into the admin.

Every page the browser loads is also read as the server sent it and fails the test when a <form>
sits inside another (the browser would drop the inner one without a word: tests/nested_forms.py).
Every browser test runs at a laptop size and at a phone size: the `viewport` fixture is
parametrized with both (`LAPTOP` 1366×768, `PHONE` 400×800; ids `laptop` and `phone`).

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

from tests.nested_forms import nested_forms

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
TIMEOUT_MS = 20_000
LAPTOP = (1366, 768)
PHONE = (400, 800)


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


SIZES = {"laptop": LAPTOP, "phone": PHONE}


@pytest.fixture(params=list(SIZES.values()), ids=list(SIZES))
def viewport(request) -> tuple[int, int]:
    """The browser window's size: every browser test runs at both."""
    return request.param


def size_name(viewport: tuple[int, int]) -> str:
    return next(name for name, size in SIZES.items() if size == viewport)


def _check_forms(response, problems: list[str]) -> None:
    """A page as the server sent it (before the browser's parser mends it): no nested forms."""
    if response.request.resource_type != "document" or not response.ok:
        return
    if not response.headers.get("content-type", "").startswith("text/html"):
        return
    try:
        html = response.text()
    except Exception:  # noqa: BLE001 - a body the browser let go (a page navigated away at once)
        return
    problems.extend(f"{response.url}: {nested}" for nested in nested_forms(html))


@pytest.fixture
def tabs(browser, viewport) -> Callable:
    """Opens browser tabs, each in a fresh context (no cookies: one per staff user), in Chinese,
    at `viewport`. The test fails if any page a tab opened broke the Content Security Policy (a
    blocked inline script or style), threw a script error, or put a form inside another: what the
    browser drops silently would otherwise go unnoticed."""
    width, height = viewport
    contexts, problems = [], []

    def open_tab():
        context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": height})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        tab = context.new_page()
        tab.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
        tab.on("pageerror", lambda error: problems.append(f"script error: {error}"))
        tab.on("response", lambda response: _check_forms(response, problems))
        return tab

    yield open_tab
    for context in contexts:
        context.close()
    assert problems == [], f"the browser reported: {problems}"


@pytest.fixture
def page(tabs):
    """One fresh tab (see `tabs`)."""
    return tabs()


@pytest.fixture
def artifacts() -> Path:
    """Where screenshots go (git-ignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def _log_in(tab, live_server, username: str, password: str):
    tab.goto(f"{live_server.url}/admin/login/")
    tab.fill("#id_username", username)
    tab.fill("#id_password", password)
    with tab.expect_navigation():
        tab.click("#login-form [type=submit]")
    assert "/admin/login/" not in tab.url, f"{username} could not log in"
    return tab


@pytest.fixture
def staff_page(page, live_server) -> Callable:
    """Log a staff user into the admin through its login form; returns the page, where the login
    landed (the work queue for a community worker, the index for others)."""

    def log_in(username: str, password: str):
        return _log_in(page, live_server, username, password)

    return log_in


@pytest.fixture
def staff_tab(tabs, live_server) -> Callable:
    """Like `staff_page`, each call in a tab of its own: several staff users in one test."""

    def log_in(username: str, password: str):
        return _log_in(tabs(), live_server, username, password)

    return log_in
