"""Loaded into a test worker (`celery worker --include tests.reviews.worker_hooks`) to hold one
release review open at the worst moment: with `HK_REVIEW_MARKER` set, the first review this
process runs does all its writes, then, before its transaction commits, writes the marker file
(JSON: the pool process id, the release) and sleeps `HK_REVIEW_SLEEP` seconds. It pauses only
while the marker does not exist yet, so the task delivered again runs through. Nothing here is
imported outside these tests."""

import json
import os
import time

from django.db import transaction

from apps.reviews import services

MARKER = os.environ.get("HK_REVIEW_MARKER", "")
SLEEP = float(os.environ.get("HK_REVIEW_SLEEP", "30"))


def _install() -> None:
    original = services.release_review_run

    def release_review_run(*, release_id):
        with transaction.atomic():
            review = original(release_id=release_id)  # a savepoint inside this transaction
            if not os.path.exists(MARKER):
                with open(MARKER + ".tmp", "w") as f:
                    json.dump({"pid": os.getpid(), "release_id": release_id}, f)
                os.replace(MARKER + ".tmp", MARKER)
                time.sleep(SLEEP)
            return review

    services.release_review_run = release_review_run


if MARKER:
    _install()
