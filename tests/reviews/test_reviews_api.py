"""The release reviews API (API.md "Release reviews (SPEC §5)"): who reads a review, the auditors'
queue, a decision as an audit event, and a referral in the CDC's work queue until the CDC closes it."""

import datetime as dt

import pytest
import time_machine

from apps.audit.models import AuditEvent
from apps.reviews.models import ReviewDecision
from tests.api.helpers import client, last_line

from .conftest import RELEASED_AT


@pytest.fixture
def flagged(case):
    """The resident's release without the commitment letter's file: flagged `no_commitment_file`."""
    [release] = case.release(files=False)
    case.review(release)
    return case, release


def url(release) -> str:
    return f"/api/v1/releases/{release.pk}/review/"


def test_auditors_and_the_cdc_read_a_review_nobody_else_does(flagged):
    case, release = flagged
    w = case.world
    w.hotline = client(last_line("create_staff", "op_1", "--role", "hotline_operator", "--org", "CDC"))
    w.anon = client("not-a-token")
    with time_machine.travel(RELEASED_AT + dt.timedelta(minutes=5), tick=False):
        got = {
            name: getattr(w, name).get(url(release)).status_code
            for name in ("auditor", "cdc", "wa", "wb", "hotel", "policy", "hotline", "feeds", "gate", "anon")
        }
    assert got == {
        "auditor": 200,
        "cdc": 200,
        "wa": 403,  # the releasing worker does not audit their own release
        "wb": 403,
        "hotel": 403,
        "policy": 403,
        "hotline": 403,
        "feeds": 403,
        "gate": 403,
        "anon": 401,
    }


def test_the_review_has_the_shape_of_the_contract(flagged):
    case, release = flagged
    body = case.world.auditor.get(url(release)).json()
    assert body["release"] == str(release.pk)
    assert body["status"] == "flagged"
    assert body["reviewed_at"] == (RELEASED_AT + dt.timedelta(seconds=1)).isoformat()
    assert body["decision"] is None
    [finding] = body["findings"]
    assert finding["code"] == "no_commitment_file"
    assert finding["evidence"] == [{"kind": "release", "id": str(release.pk)}]
    assert finding["message"]  # rendered from the code in the caller's language
    english = case.world.auditor.get(url(release), HTTP_ACCEPT_LANGUAGE="en").json()["findings"][0]["message"]
    assert "commitment letter" in english


def test_a_pending_review_and_an_unknown_release(case):
    [release] = case.release()
    body = case.world.cdc.get(url(release)).json()
    assert (body["status"], body["reviewed_at"], body["findings"]) == ("pending", None, [])
    assert case.world.auditor.get("/api/v1/releases/999999/review/").status_code == 404
    assert case.world.auditor.get("/api/v1/releases/abc/review/").status_code == 404
    assert case.world.auditor.get(f"/api/v1/releases/{'9' * 40}/review/").status_code == 404
    r = case.world.auditor.post(f"/api/v1/releases/{'9' * 40}/review/decision/", {"kind": "confirmed", "reason": "x"})
    assert r.status_code == 404


def test_the_queue_lists_flagged_reviews_paginated_for_auditors_only(flagged):
    case, first = flagged
    from tests.api.helpers import rid

    others = [case.resident(rid(f"1101051990010250{n}"), f"Q{n}") for n in range(2)]
    second = case.release(persons=[others[0]], files=False)[0]
    clean = case.release(persons=[others[1]])[0]
    for release in (second, clean):
        case.review(release)
    api = case.world.auditor
    page = api.get("/api/v1/releases/reviews/", {"status": "flagged", "page_size": 1}).json()
    assert [r["release"] for r in page["results"]] == [str(first.pk)]
    assert page["next"]
    rest = api.get(page["next"]).json()
    assert [r["release"] for r in rest["results"]] == [str(second.pk)] and rest["next"] is None
    every = api.get("/api/v1/releases/reviews/").json()["results"]
    assert [r["release"] for r in every] == [str(first.pk), str(second.pk), str(clean.pk)]
    by_code = api.get("/api/v1/releases/reviews/", {"code": "no_commitment_file", "awaiting": "true"}).json()
    assert len(by_code["results"]) == 2
    assert api.get("/api/v1/releases/reviews/", {"status": "odd"}).status_code == 400
    assert case.world.cdc.get("/api/v1/releases/reviews/").status_code == 403
    assert case.world.wa.get("/api/v1/releases/reviews/").status_code == 403


def test_an_auditor_confirms_once_as_an_audit_event(flagged):
    case, release = flagged
    decide = f"{url(release)}decision/"
    with time_machine.travel(RELEASED_AT + dt.timedelta(hours=1), tick=False):
        assert case.world.wa.post(decide, {"kind": "confirmed", "reason": "x"}, format="json").status_code == 403
        assert case.world.cdc.post(decide, {"kind": "confirmed", "reason": "x"}, format="json").status_code == 403
        bad = case.world.auditor.post(decide, {"kind": "approved", "reason": ""}, format="json")
        assert bad.status_code == 400 and set(bad.json()) == {"kind", "reason"}
        r = case.world.auditor.post(decide, {"kind": "confirmed", "reason": "承诺书纸质件已核对"}, format="json")
        assert r.status_code == 200, r.content
        again = case.world.auditor.post(decide, {"kind": "referred", "reason": "再看"}, format="json")
    assert again.status_code == 409
    decision = r.json()["decision"]
    assert decision == {
        "kind": "confirmed",
        "by": "auditor_1",
        "at": (RELEASED_AT + dt.timedelta(hours=1)).isoformat(),
        "reason": "承诺书纸质件已核对",
        "findings": ["no_commitment_file"],
    }
    event = AuditEvent.objects.get(kind="release_review.confirmed")
    assert (event.actor.username, event.person_id, event.reason) == ("auditor_1", case.person.pk, "承诺书纸质件已核对")
    assert event.detail["release"] == str(release.pk) and event.detail["findings"] == ["no_commitment_file"]
    assert ReviewDecision.objects.count() == 1


def test_a_clean_review_is_not_decided(case):
    [release] = case.release()
    case.review(release)
    r = case.world.auditor.post(f"{url(release)}decision/", {"kind": "confirmed", "reason": "x"}, format="json")
    assert r.status_code == 409


def test_a_referral_is_a_work_item_of_the_cdc_until_closed(flagged):
    case, release = flagged
    w = case.world
    assert not [i for i in w.cdc.get("/api/v1/work-queue/").json()["items"] if i["kind"] == "review"]
    with time_machine.travel(RELEASED_AT + dt.timedelta(hours=2), tick=False):
        r = w.auditor.post(f"{url(release)}decision/", {"kind": "referred", "reason": "请疾控复核"}, format="json")
    assert r.status_code == 200 and r.json()["referral_open"] is True
    assert AuditEvent.objects.filter(kind="release_review.referred", reason="请疾控复核").count() == 1

    queue = w.cdc.get("/api/v1/work-queue/").json()
    [item] = [i for i in queue["items"] if i["kind"] == "review"]
    assert (item["id"], item["person"], item["label"]) == (str(release.pk), w.ref, f"#{release.pk}")
    assert dt.datetime.fromisoformat(item["since"]) == RELEASED_AT + dt.timedelta(hours=2)
    assert queue["counts"]["review"] == 1
    # The community's queue has no such item: the referral is the CDC's.
    assert w.wa.get("/api/v1/work-queue/").json()["counts"]["review"] == 0

    close = f"{url(release)}close/"
    assert w.auditor.post(close, {"reason": "x"}, format="json").status_code == 403
    with time_machine.travel(RELEASED_AT + dt.timedelta(hours=3), tick=False):
        r = w.cdc.post(close, {"reason": "已电话回访，补传承诺书"}, format="json")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["referral_open"] is False and body["referral_closed"]["by"] == "cdc_1"
    assert body["decision"]["kind"] == "referred"
    assert w.cdc.post(close, {"reason": "again"}, format="json").status_code == 409
    assert w.cdc.get("/api/v1/work-queue/").json()["counts"]["review"] == 0
    assert AuditEvent.objects.filter(kind="release_review.closed").count() == 1


def test_a_finding_added_after_a_decision_puts_the_review_back(flagged, django_capture_on_commit_callbacks):
    from .test_findings import came_back

    case, release = flagged
    with time_machine.travel(RELEASED_AT + dt.timedelta(hours=1), tick=False):
        r = case.world.auditor.post(f"{url(release)}decision/", {"kind": "confirmed", "reason": "ok"}, format="json")
    assert r.status_code == 200
    came_back(case, RELEASED_AT + dt.timedelta(hours=5), django_capture_on_commit_callbacks)
    body = case.world.auditor.get(url(release)).json()
    assert [f["code"] for f in body["findings"]] == ["no_commitment_file", "reraised_soon"]
    assert body["awaiting_decision"] is True and body["decision"]["findings"] == ["no_commitment_file"]
    with time_machine.travel(RELEASED_AT + dt.timedelta(hours=6), tick=False):
        r = case.world.auditor.post(f"{url(release)}decision/", {"kind": "referred", "reason": "返弹"}, format="json")
    assert r.status_code == 200
    assert r.json()["decision"]["findings"] == ["no_commitment_file", "reraised_soon"]
    assert ReviewDecision.objects.count() == 2


def test_the_schema_documents_the_review_routes(world):
    schema = world.cdc.get("/api/v1/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    assert "/api/v1/releases/{release_id}/review/" in paths
    assert "/api/v1/releases/reviews/" in paths
    assert "409" in paths["/api/v1/releases/{release_id}/review/decision/"]["post"]["responses"]
