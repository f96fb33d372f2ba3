"""A real worker on `urgent` alone serves one person's feed at once while a fan-out's chunks wait
in `bulk` (no bulk consumer here, so they are certainly ahead of it in no queue it reads)."""

import redis
from django.conf import settings

from apps.core.clock import now
from apps.evidence.services import feed_ingest
from apps.status import services
from apps.status.models import PersonStatus
from tests.faults.conftest import idn, population_records
from tests.faults.helpers import BROKER, needs_services, wait_until

pytestmark = needs_services


def test_a_single_persons_feed_is_not_queued_behind_a_fanout(broker, monkeypatch):
    monkeypatch.setattr(services, "CHUNK", 40)
    monkeypatch.setattr(settings, "CELERY_URGENT_MAX_PERSONS", 5)
    t = now()
    for feed, records in population_records(240, t).items():  # 6 chunks of 40: bulk
        assert feed_ingest(feed=feed, records=records).accepted == len(records)
    client = redis.Redis.from_url(BROKER)
    assert client.llen("bulk") == 6 and client.llen("urgent") == 0
    broker.worker(pool="prefork", args=("-Q", "urgent", "-n", "urgent@test"))

    record = {"external_id": "one", "id_type": "resident_id", "id_number": idn(5000), "kind": "centralized"}
    record["starts_at"] = t.isoformat()
    assert feed_ingest(feed="observation-orders", records=[record]).accepted == 1
    row = PersonStatus.objects.order_by("-person_id").first()
    wait_until(lambda: PersonStatus.objects.get(pk=row.pk).dirty_since is None, 30, "the urgent recomputation")
    assert PersonStatus.objects.get(pk=row.pk).state == "red"
    assert client.llen("bulk") == 6, "the fan-out's chunks are still waiting for a bulk worker"
