"""The auditors' review queue in the admin: the list and its filters, the review page, confirming
or referring through the decision screen, the release's own page showing its review, and a
referral in the CDC's work queue page until the CDC closes it."""

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from apps.accounts.models import User
from apps.audit.models import AuditEvent
from apps.reviews.models import ReleaseReview
from tests.api.helpers import rid

from .conftest import RELEASED_AT

LIST = "/admin/reviews/releasereview/"


def logged_in(username: str) -> Client:
    c = Client()
    c.force_login(User.objects.get(username=username))
    return c


@pytest.fixture
def two(case):
    """A flagged review (no file for the commitment letter) and a clean one."""
    other = case.resident(rid("11010519900101602"), "AD1")
    [flagged] = case.release(files=False)
    [clean] = case.release(persons=[other])
    case.review(flagged)
    case.review(clean)
    return case, flagged, clean


def test_the_queue_renders_for_an_auditor_and_filters_by_status_and_finding(two):
    case, flagged, clean = two
    auditor = logged_in("auditor_1")
    page = auditor.get(LIST)
    assert page.status_code == 200
    body = page.content.decode()
    assert f"#{flagged.pk}" in body and f"#{clean.pk}" in body
    only = auditor.get(LIST, {"status__exact": "flagged"}).content.decode()
    assert f">#{flagged.pk}<" in only and f">#{clean.pk}<" not in only
    by_code = auditor.get(LIST, {"code": "no_commitment_file"}).content.decode()
    assert f">#{flagged.pk}<" in by_code and f">#{clean.pk}<" not in by_code
    assert auditor.get(LIST, {"actor": "worker_a", "awaiting_decision__exact": "1"}).status_code == 200


def test_the_review_page_shows_its_findings_and_the_decision_button(two):
    case, flagged, _clean = two
    page = logged_in("auditor_1").get(reverse("admin:reviews_releasereview_change", args=[flagged.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "data-code='no_commitment_file'" in body or 'data-code="no_commitment_file"' in body
    assert 'id="review-decide"' in body
    # The CDC reads it but does not decide.
    cdc = logged_in("cdc_1").get(reverse("admin:reviews_releasereview_change", args=[flagged.pk]))
    assert cdc.status_code == 200 and 'id="review-decide"' not in cdc.content.decode()


def test_no_one_but_auditors_and_the_cdc_opens_the_queue(two):
    case, flagged, _clean = two
    for username in ("worker_a", "worker_b", "hotel_1", "policy_1"):
        c = logged_in(username)
        assert c.get(LIST).status_code == 403, username
        assert c.get(reverse("admin:reviews_releasereview_change", args=[flagged.pk])).status_code in (302, 403)
        assert c.get(reverse("admin:reviews_releasereview_decide"), {"ids": flagged.pk}).status_code == 403
    assert (
        logged_in("auditor_1").get(reverse("admin:reviews_releasereview_decide"), {"ids": "9" * 40}).status_code == 404
    )


def test_an_auditor_refers_a_review_with_a_reason_and_the_cdc_closes_it_from_its_queue(two):
    case, flagged, _clean = two
    auditor = logged_in("auditor_1")
    decide = reverse("admin:reviews_releasereview_decide")
    with time_machine.travel(RELEASED_AT + dt.timedelta(hours=1), tick=False):
        form = auditor.get(decide, {"ids": flagged.pk})
        assert form.status_code == 200 and f"#{flagged.pk}" in form.content.decode()
        missing = auditor.post(decide, {"ids": str(flagged.pk), "kind": "referred", "reason": ""})
        assert missing.status_code == 200 and "errors-reason" in missing.content.decode()
        done = auditor.post(decide, {"ids": str(flagged.pk), "kind": "referred", "reason": "请疾控复核承诺书"})
    assert done.status_code == 302
    assert done.url == reverse("admin:reviews_releasereview_change", args=[flagged.pk])
    assert AuditEvent.objects.filter(kind="release_review.referred", reason="请疾控复核承诺书").count() == 1
    assert ReleaseReview.objects.get(pk=flagged.pk).referral_open

    cdc = logged_in("cdc_1")
    queue = cdc.get(reverse("casework_admin:queue")).content.decode()
    assert f'id="row-review-{flagged.pk}"' in queue
    assert reverse("admin:reviews_releasereview_change", args=[flagged.pk]) in queue
    review_page = cdc.get(reverse("admin:reviews_releasereview_change", args=[flagged.pk])).content.decode()
    assert 'id="review-close"' in review_page
    close = reverse("admin:reviews_releasereview_close", args=[flagged.pk])
    with time_machine.travel(RELEASED_AT + dt.timedelta(hours=2), tick=False):
        assert cdc.post(close, {"reason": "已回访，补传承诺书"}).status_code == 302
    assert not ReleaseReview.objects.get(pk=flagged.pk).referral_open
    assert f'id="row-review-{flagged.pk}"' not in cdc.get(reverse("casework_admin:queue")).content.decode()
    assert logged_in("auditor_1").post(close, {"reason": "x"}).status_code == 403


def test_deciding_the_selected_reviews_reports_those_not_awaiting(two):
    case, flagged, clean = two
    auditor = logged_in("auditor_1")
    picked = auditor.post(LIST, {"action": "decide_selected", "_selected_action": [flagged.pk, clean.pk]})
    assert picked.status_code == 302
    assert picked.url.endswith(f"?ids={flagged.pk}"), "only the review awaiting a decision is taken on"
    decide = reverse("admin:reviews_releasereview_decide")
    with time_machine.travel(RELEASED_AT + dt.timedelta(hours=1), tick=False):
        r = auditor.post(decide, {"ids": f"{flagged.pk},{clean.pk}", "kind": "confirmed", "reason": "已核"})
    assert r.status_code == 302
    assert AuditEvent.objects.filter(kind="release_review.confirmed").count() == 1
    assert not ReleaseReview.objects.get(pk=flagged.pk).awaiting_decision


def test_the_release_page_shows_its_review_to_auditors_only(two):
    case, flagged, _clean = two
    url = reverse("admin:status_release_change", args=[flagged.pk])
    page = logged_in("auditor_1").get(url)
    assert page.status_code == 200
    assert reverse("admin:reviews_releasereview_change", args=[flagged.pk]) in page.content.decode()
    worker = logged_in("worker_a").get(url)
    assert worker.status_code == 200  # the worker's own release, without its review
    assert reverse("admin:reviews_releasereview_change", args=[flagged.pk]) not in worker.content.decode()
