"""Another database session in a test (PostgreSQL, `transactional_db`): a thread with its own
connection, for transactions that overlap the test's own."""

import threading
from contextlib import contextmanager

from django.db import connection, transaction

WAIT_SECONDS = 20


def in_thread(target) -> threading.Thread:
    """Run `target` in a started thread that closes its database connection at the end."""

    def run():
        try:
            target()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@contextmanager
def held_open(work):
    """Run `work()` in a transaction of another session and keep that transaction open for the
    `with` block; it commits when the block ends. Yields `work()`'s result."""
    began, go_on, result = threading.Event(), threading.Event(), {}

    def hold():
        try:
            with transaction.atomic():
                result["value"] = work()
                began.set()
                assert go_on.wait(WAIT_SECONDS)
        finally:
            began.set()

    thread = in_thread(hold)
    assert began.wait(WAIT_SECONDS) and "value" in result, "the other session's work failed"
    try:
        yield result["value"]
    finally:
        go_on.set()
        thread.join(WAIT_SECONDS)
