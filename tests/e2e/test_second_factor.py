"""End to end, in a real browser, with the second factor required (as in production): a community
worker logs in with a password, is held at the enrolment page, adds the key to an authenticator
(here: computes the code from the key the page shows), lands on the work queue, ticks every person
with the queue's own script, and opens a resident's full identity for a logged reason. Every page
must run under the Content Security Policy without a violation (the `page` fixture checks)."""

import base64
import datetime as dt

import pytest
from django.test import override_settings
from django_otp.oath import totp

from apps.audit.models import AccessLog
from apps.core.clock import now
from tests.api.helpers import RISK_COUNTY, rid, stay
from tests.e2e.conftest import requires_browser, size_name
from tests.personas import PASSWORD

pytestmark = requires_browser

WANG = rid("11010519900101123")


def code_for(secret_text: str) -> str:
    key = base64.b32decode(secret_text.replace(" ", "") + "=" * (-len(secret_text.replace(" ", "")) % 8))
    return f"{totp(key):06d}"


@pytest.fixture
def resident(transactional_db, world):
    t = now()
    world.person(WANG, name="王小明", community="CA")
    world.feed(
        "stays",
        stay(WANG, "G1", RISK_COUNTY, (t - dt.timedelta(days=8)).isoformat(), (t - dt.timedelta(days=6)).isoformat()),
    )
    world.designate(RISK_COUNTY, "medium", (t - dt.timedelta(hours=1)).isoformat())
    return world


@override_settings(STAFF_OTP_REQUIRED=True)
def test_a_community_worker_enrols_a_second_factor_and_sees_a_full_identity(
    resident, page, live_server, artifacts, viewport
):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "worker_a")
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("#login-form [type=submit]")

    # Held at the enrolment page: a QR code and the key by hand.
    assert "/admin/second-factor/" in page.url
    assert page.locator("#second-factor-qr svg").count() == 1
    secret = page.locator("#second-factor-secret").inner_text()
    page.screenshot(path=str(artifacts / f"second_factor_setup_{size_name(viewport)}.png"), full_page=True)

    # A wrong code is refused next to the field; the right one goes on to the work queue.
    page.fill("#id_otp_token", "000000" if code_for(secret) != "000000" else "111111")
    with page.expect_navigation():
        page.click("#second-factor-submit")
    assert page.locator("#errors-otp_token").count() == 1
    page.wait_for_timeout(2_100)  # after a wrong code the device waits (throttling) before the next try
    page.fill("#id_otp_token", code_for(secret))
    with page.expect_navigation():
        page.click("#second-factor-submit")
    assert page.url.endswith("/admin/casework/queue/"), page.url

    # The queue's script (a static file under the policy) ticks every person.
    page.check("#tick-all")
    boxes = page.locator('#queue-table input[name="person"]')
    assert boxes.count() >= 1
    assert all(boxes.nth(i).is_checked() for i in range(boxes.count()))

    # The person page shows the masked identity; the full one needs a reason, and is logged.
    with page.expect_navigation():
        page.locator("#queue-table a.portal-person-link").first.click()
    assert "110105199001011232" not in page.content()
    with page.expect_navigation():
        page.locator('#case-actions a[href*="/identity/"]').click()
    page.fill("#id_reason", "电话联系本人核实行程")
    with page.expect_navigation():
        page.click("#action-submit")
    assert page.locator("#identity-id").inner_text() == WANG
    assert page.locator("#identity-name").inner_text() == "王小明"
    page.screenshot(path=str(artifacts / f"full_identity_{size_name(viewport)}.png"), full_page=True)
    log = AccessLog.objects.get(via="reveal")
    assert log.actor.username == "worker_a" and "电话联系本人核实行程" in log.why
