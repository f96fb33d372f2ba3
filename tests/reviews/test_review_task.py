"""The review's task (apps/reviews/tasks.py): enqueued once the release commits and never for a
release rolled back, one review per release of a bulk release, idempotent, retried on a database
blip, and found again by the sweep when its message was lost."""

import datetime as dt

import pytest
import time_machine
from django.db import OperationalError, transaction

from apps.audit.models import AuditEvent
from apps.reviews import services, tasks
from apps.reviews.models import ReleaseReview
from apps.status.models import Release
from tests.api.helpers import rid

from .conftest import RELEASED_AT


def test_the_review_is_pending_in_the_release_and_enqueued_on_its_commit(
    case, django_capture_on_commit_callbacks, monkeypatch
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        [release] = case.release()
    review = ReleaseReview.objects.get(pk=release.pk)
    assert (review.status, review.due_since) == ("pending", RELEASED_AT)
    # What the release's commit runs: the task, sent (and run eagerly here: no broker in the tests).
    sent, original = [], tasks.release_review.delay
    monkeypatch.setattr(tasks.release_review, "delay", lambda pk: sent.append(pk) or original(pk))
    with time_machine.travel(RELEASED_AT + dt.timedelta(seconds=1), tick=False):
        for callback in callbacks:
            callback()
    assert sent == [release.pk]
    review.refresh_from_db()
    assert (review.status, review.due_since) == ("clean", None)


def test_a_release_rolled_back_enqueues_nothing_and_leaves_no_review(case, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            case.release()
            assert ReleaseReview.objects.count() == 1
            raise RuntimeError("the request failed after the release")
    assert callbacks == []
    assert not Release.objects.exists() and not ReleaseReview.objects.exists()
    assert services.release_review_run(release_id=1) is None


def test_a_bulk_release_gets_one_review_per_release(case, django_capture_on_commit_callbacks):
    others = [case.resident(rid(f"1101051990010240{n}"), f"BK{n}") for n in range(2)]
    with time_machine.travel(RELEASED_AT, tick=False), django_capture_on_commit_callbacks(execute=True) as callbacks:
        releases = case.release(persons=[case.person, *others])
    assert len(callbacks) == 1, "one enqueue for the whole bulk release"
    assert len(releases) == 3
    reviews = ReleaseReview.objects.order_by("pk")
    assert [r.pk for r in reviews] == sorted(r.pk for r in releases)
    assert {r.status for r in reviews} == {"clean"}
    assert AuditEvent.objects.filter(kind="release.reviewed").count() == 3


def test_running_the_review_twice_writes_one_review_and_one_audit_event(case):
    [release] = case.release(files=False)
    first = case.review(release)
    second = case.review(release, RELEASED_AT + dt.timedelta(minutes=5))
    assert ReleaseReview.objects.count() == 1
    assert second.findings == first.findings and second.reviewed_at == first.reviewed_at
    assert second.rechecked_at is None
    assert AuditEvent.objects.filter(kind="release.reviewed").count() == 1


def test_the_task_writes_the_review_for_a_release_without_a_pending_one(case):
    [release] = case.release()
    ReleaseReview.objects.filter(pk=release.pk).delete()  # a release made before reviews existed
    with time_machine.travel(RELEASED_AT + dt.timedelta(seconds=1), tick=False):
        assert tasks.release_review.apply(args=[release.pk]).get() == "clean"
    assert ReleaseReview.objects.get(pk=release.pk).status == "clean"


def test_the_task_retries_a_database_blip(case, monkeypatch):
    [release] = case.release()
    calls = []
    original = services.release_review_run

    def flaky(*, release_id):
        calls.append(release_id)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return original(release_id=release_id)

    monkeypatch.setattr(services, "release_review_run", flaky)
    with time_machine.travel(RELEASED_AT + dt.timedelta(seconds=1), tick=False):
        result = tasks.release_review.apply(args=[release.pk], throw=False)  # eager retries run in apply
    assert result.get() == "clean"
    assert calls == [release.pk, release.pk]
    assert tasks.release_review.acks_late is True


def test_the_sweep_sends_again_the_reviews_overdue(case, monkeypatch):
    [release] = case.release()
    sent = []
    monkeypatch.setattr(tasks.release_review, "delay", sent.append)
    with time_machine.travel(RELEASED_AT + dt.timedelta(seconds=60), tick=False):
        assert services.reviews_sweep() == 1  # due for a minute: its message may be lost
    with time_machine.travel(RELEASED_AT + dt.timedelta(seconds=59), tick=False):
        assert services.reviews_sweep() == 0
    assert sent == [release.pk]


def test_a_broker_that_refuses_the_task_does_not_fail_the_release(case, monkeypatch, caplog):
    from kombu.exceptions import OperationalError as KombuOperationalError

    def refuse(pk):
        raise KombuOperationalError("connection refused")

    monkeypatch.setattr(tasks.release_review, "delay", refuse)
    [release] = case.release()
    services.reviews_enqueue([release.pk])
    assert "left due for the sweep" in caplog.text
    assert ReleaseReview.objects.get(pk=release.pk).due_since is not None


def test_a_review_reads_the_record_in_a_fixed_number_of_queries(case, django_assert_max_num_queries):
    [release] = case.release()
    with django_assert_max_num_queries(10):  # 6 reads, the review, its audit event, a savepoint around
        assert case.review(release).status == "clean"
