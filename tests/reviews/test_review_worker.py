"""A release reviewed by a real Celery worker on the test broker (no eager mode), and the review
delivered again when the worker's pool child dies in the middle of it: the review is written once,
with one audit event. Needs PostgreSQL (the worker is another process and must see the test
database) and a broker (`CELERY_TEST_BROKER_URL`): CI provides both and sets
HEALTHKIT_REQUIRE_SERVICES=1, so there these tests fail instead of being skipped."""

import os
import signal

import pytest

from apps.audit.models import AuditEvent
from apps.reviews import services
from apps.reviews.models import ReleaseReview
from tests.faults.helpers import marker_read, needs_services, real_broker, wait_until

pytestmark = needs_services


@pytest.fixture
def broker(transactional_db, case):
    """The real test broker for this process (the case is set up first, eagerly), emptied;
    workers started with `broker.worker(...)` are killed afterwards."""
    from config.celery import app

    with real_broker(app) as b:
        yield b


def reviewed(release_id: int):
    review = ReleaseReview.objects.filter(pk=release_id).first()
    return review if review is not None and review.status != "pending" else None


def test_a_release_is_reviewed_by_the_worker(case, broker, monkeypatch):
    in_process = []
    monkeypatch.setattr(services, "release_review_run", lambda **kw: in_process.append(kw))
    broker.worker(pool="solo")
    [release] = case.release(files=False)  # committed: its review is sent to the broker
    assert ReleaseReview.objects.get(pk=release.pk).status == "pending"
    review = wait_until(lambda: reviewed(release.pk), 30, "the worker's review")
    assert review.status == "flagged" and [f["code"] for f in review.findings] == ["no_commitment_file"]
    assert review.due_since is None
    assert in_process == [], "the review ran in the worker, not eagerly in this process"
    event = AuditEvent.objects.get(kind="release.reviewed")
    assert (event.origin, event.detail["release"]) == ("task", str(release.pk))


def test_a_review_whose_worker_dies_mid_task_is_delivered_again_and_written_once(case, broker, tmp_path):
    """acks_late with reject_on_worker_lost: the parent sees its pool child die and puts the
    message back, so the review runs again in the next child; the dead one's writes were never
    committed."""
    marker = tmp_path / "review.json"
    broker.worker(
        pool="prefork",
        hooks={"HK_REVIEW_MARKER": str(marker), "HK_REVIEW_SLEEP": "60"},
        hooks_module="tests.reviews.worker_hooks",
    )
    [release] = case.release(files=False)
    paused = wait_until(lambda: marker_read(marker), 30, "the review to pause before its commit")
    assert paused["release_id"] == release.pk
    assert ReleaseReview.objects.get(pk=release.pk).status == "pending", "nothing committed yet"
    os.kill(paused["pid"], signal.SIGKILL)
    review = wait_until(lambda: reviewed(release.pk), 40, "the review delivered again")
    assert [f["code"] for f in review.findings] == ["no_commitment_file"]
    assert AuditEvent.objects.filter(kind="release.reviewed").count() == 1
    assert ReleaseReview.objects.count() == 1
