"""Loaded into a test worker (`celery worker --include tests.faults.worker_hooks`) to hold one
recomputation open at the worst moment, so a test can break something right there.

With `HK_FAULT_MARKER` set, the `HK_FAULT_AT`-th recomputation this process runs (1 by default)
does all its writes, then, before its transaction commits, writes the marker file (JSON: the pool
process id, its PostgreSQL backend id, the persons of the chunk) and sleeps `HK_FAULT_SLEEP`
seconds. It pauses only while the marker does not exist yet, so a redelivered or retried task runs
through. Nothing here is imported outside the fault tests."""

import json
import os
import time

from django.db import connection, transaction

from apps.status import services

MARKER = os.environ.get("HK_FAULT_MARKER", "")
AT = int(os.environ.get("HK_FAULT_AT", "1"))
SLEEP = float(os.environ.get("HK_FAULT_SLEEP", "30"))


def _install() -> None:
    original = services.status_refresh_many
    calls = 0

    def status_refresh_many(*, person_ids):
        nonlocal calls
        with transaction.atomic():
            rows = original(person_ids=person_ids)  # a savepoint inside this transaction
            calls += 1
            if calls >= AT and not os.path.exists(MARKER):
                info = {
                    "pid": os.getpid(),
                    "backend_pid": connection.connection.info.backend_pid,
                    "person_ids": sorted(person_ids),
                }
                with open(MARKER + ".tmp", "w") as f:
                    json.dump(info, f)
                os.replace(MARKER + ".tmp", MARKER)
                time.sleep(SLEEP)
            return rows

    services.status_refresh_many = status_refresh_many


if MARKER:
    _install()
