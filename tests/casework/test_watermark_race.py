"""A release's watermark never covers a batch still being written (PostgreSQL, where transactions
overlap): ingestion ids are handed out under a shared advisory lock held to commit, and the
watermark is read only once every batch in flight has committed — so evidence the release never
saw always has an id above it, and raises the popup again."""

import os

import pytest
from django.conf import settings
from django.db import transaction

from apps.casework.services import evidence_watermark
from apps.core.clock import now
from apps.evidence.models import Ingestion
from tests.threads import held_open, in_thread

POSTGRES = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
pytestmark = pytest.mark.skipif(
    not POSTGRES and os.environ.get("HEALTHKIT_REQUIRE_SERVICES") != "1",
    reason="overlapping transactions need PostgreSQL",
)


def test_the_watermark_waits_for_a_batch_being_written_and_then_covers_it(transactional_db):
    Ingestion.objects.create(feed="stays", received_at=now())
    seen = {}

    def quick_batch():
        seen["quick"] = Ingestion.objects.create(feed="stays", received_at=now()).pk

    with held_open(lambda: Ingestion.objects.create(feed="stays", received_at=now()).pk) as batch:
        seen["batch"] = batch
        # A later batch commits first: its id is above the one still being written.
        in_thread(quick_batch).join(20)
        assert seen["quick"] > seen["batch"]
        release = in_thread(lambda: seen.setdefault("watermark", evidence_watermark()))
        release.join(1.0)
        assert release.is_alive(), "the watermark must wait for the batch still being written"
    release.join(20)
    assert seen["watermark"] >= seen["quick"] > seen["batch"]
    assert Ingestion.objects.filter(pk=seen["batch"]).exists()


def test_a_release_waits_a_bounded_time_for_a_batch_being_written(transactional_db, monkeypatch):
    """A batch that stays open too long makes the release give up (503 in the API, a form error in
    the admin: send it again) rather than hold every new batch queued behind it."""
    from apps.casework.services import Busy
    from apps.evidence import models as evidence_models

    monkeypatch.setattr(evidence_models, "SETTLE_TIMEOUT_MS", 300)
    with held_open(lambda: Ingestion.objects.create(feed="stays", received_at=now())):
        with pytest.raises(Busy) as refused, transaction.atomic():
            evidence_watermark()
        assert refused.value.status_code == 503
        # Outside that transaction the connection works and the lock is not left behind.
        assert Ingestion.objects.count() == 0
    with transaction.atomic():
        assert evidence_watermark() == Ingestion.objects.get().pk
