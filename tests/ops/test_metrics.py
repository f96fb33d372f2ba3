"""/metrics (apps.core.metrics): never public, the portal's gauges counted at scrape time, the
feed-to-fresh histogram, fan-out progress, throttled requests, and the multiprocess mode."""

import datetime as dt
import os
import subprocess
import sys
import textwrap

import pytest
import time_machine
from django.test import Client
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from apps.accounts.throttling import lookup_check
from apps.core.clock import now
from apps.core.errors import TooManyLookups
from apps.evidence.services import feed_ingest
from apps.status import metrics as status_metrics
from apps.status.models import PersonStatus
from apps.status.services import status_refresh_many
from tests.faults.conftest import population_records

TOKEN = "s3cret-metrics-token"


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(token=TOKEN) -> dict[str, float]:
    r = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert r.status_code == 200, r.status_code
    assert r["Content-Type"].startswith("text/plain")
    out = {}
    for family in text_string_to_metric_families(r.content.decode()):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            out[sample.name + (f"{{{labels}}}" if labels else "")] = sample.value
    return out


@pytest.fixture
def persons(db):
    t = now()
    for feed, records in population_records(9, t).items():
        assert feed_ingest(feed=feed, records=records).accepted == len(records)
    ids = sorted(PersonStatus.objects.values_list("person_id", flat=True))
    status_refresh_many(person_ids=ids)  # in the test's transaction the tasks after commit never run
    assert len(ids) == 9 and not PersonStatus.objects.filter(dirty_since__isnull=False).exists()
    return ids


def test_metrics_are_404_without_a_configured_token_or_with_a_wrong_one(db, settings):
    settings.METRICS_TOKEN = ""
    assert Client().get("/metrics").status_code == 404
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404
    settings.METRICS_TOKEN = TOKEN
    assert Client().get("/metrics").status_code == 404
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    assert Client().get("/metrics", HTTP_AUTHORIZATION=f"Token {TOKEN}").status_code == 404
    assert Client().post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 405


def test_dirty_and_overdue_statuses_are_counted_at_scrape_time(persons, token):
    t = now()
    assert scrape()["healthkit_status_dirty"] == 0
    PersonStatus.objects.filter(person_id__in=persons[:3]).update(dirty_since=t)
    PersonStatus.objects.filter(person_id__in=persons[3:5]).update(next_change_at=t)  # due now: overdue
    PersonStatus.objects.filter(person_id__in=persons[5:]).update(next_change_at=t + dt.timedelta(seconds=5))
    got = scrape()
    assert got["healthkit_status_dirty"] == 3
    assert got["healthkit_status_overdue"] == 2
    assert got["healthkit_reviews_flagged"] == 0 and got["healthkit_reviews_awaiting_decision"] == 0


def test_feed_to_fresh_is_observed_when_a_dirty_row_is_recomputed(persons):
    def count_and_sum():
        return (
            REGISTRY.get_sample_value("healthkit_feed_to_fresh_seconds_count") or 0,
            REGISTRY.get_sample_value("healthkit_feed_to_fresh_seconds_sum") or 0,
        )

    start = now()
    with time_machine.travel(start, tick=False) as clock:
        PersonStatus.objects.filter(person_id__in=persons[:4]).update(dirty_since=now())
        before = count_and_sum()
        clock.shift(dt.timedelta(seconds=3))
        status_refresh_many(person_ids=persons)  # 4 dirty rows, 5 clean ones (not observed)
        count, total = count_and_sum()
    assert count - before[0] == 4
    assert total - before[1] == pytest.approx(12.0)
    le_2_5 = REGISTRY.get_sample_value("healthkit_feed_to_fresh_seconds_bucket", {"le": "2.5"})
    le_5 = REGISTRY.get_sample_value("healthkit_feed_to_fresh_seconds_bucket", {"le": "5.0"})
    assert le_5 - le_2_5 >= 4


def test_the_last_fanouts_progress_is_the_rows_it_marked_still_dirty(persons, token):
    t = now()
    PersonStatus.objects.filter(person_id__in=persons[:5]).update(dirty_since=t)
    PersonStatus.objects.filter(person_id__in=persons[5:6]).update(dirty_since=t + dt.timedelta(seconds=1))  # a feed
    status_metrics.fanout_started(at=t, total=5)
    got = scrape()
    assert got["healthkit_fanout_total"] == 5 and got["healthkit_fanout_remaining"] == 5
    status_refresh_many(person_ids=persons[:2])
    got = scrape()
    assert got["healthkit_fanout_remaining"] == 3
    assert got["healthkit_status_dirty"] == 4


def test_throttled_look_ups_are_counted_by_kind_never_by_who(db, settings, personas):
    settings.LOOKUP_LIMITS = {**settings.LOOKUP_LIMITS, "person_search": "1/m"}
    user = personas.user("worker_a")

    def value():
        return REGISTRY.get_sample_value("healthkit_throttled_requests_total", {"budget": "lookup:person_search"}) or 0

    before = value()
    lookup_check(user, "person_search")
    with pytest.raises(TooManyLookups):
        lookup_check(user, "person_search")
    with pytest.raises(TooManyLookups):  # locked out
        lookup_check(user, "person_search")
    assert value() - before == 2


def test_counters_of_several_processes_add_up_in_multiprocess_mode(tmp_path):
    code = textwrap.dedent(
        """
        import django, os
        os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
        django.setup()
        from apps.core import metrics
        metrics.throttled("anon")
        """
    )
    env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    for _ in range(2):
        subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=os.getcwd())
    from prometheus_client import CollectorRegistry, multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(tmp_path))
    assert registry.get_sample_value("healthkit_throttled_requests_total", {"budget": "anon"}) == 2
