"""The status's own metrics (apps.core.metrics; issue 17, item 5): dirty and overdue statuses,
feed-to-fresh latency, and the progress of the last fan-out.

Registered from StatusConfig.ready. The counts run at scrape time on indexed columns (the partial
index `status_dirty` on dirty_since, the index on next_change_at): a scrape every 15 s costs two
index scans, never a pass over the table's heap."""

import datetime as dt

import prometheus_client
from django.core.cache import cache
from prometheus_client.core import GaugeMetricFamily

from apps.core.clock import now

from .models import PersonStatus

# From a row marked dirty (a feed, a release, a fan-out) to its recomputation: what a person at a
# gate waits for at worst. The alert is on its p99 over 1 s (README).
FEED_TO_FRESH = prometheus_client.Histogram(
    "healthkit_feed_to_fresh_seconds",
    "From a status marked dirty to its recomputation.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800),
)
LAST_FANOUT = "status:metrics:last-fanout"


def fresh_observe(dirty_since: list, at: dt.datetime) -> None:
    """A recomputation at `at` of rows marked dirty at these moments (None: not dirty, skipped)."""
    for since in dirty_since:
        if since is not None:
            FEED_TO_FRESH.observe(max(0.0, (at - since).total_seconds()))


def fanout_started(*, at: dt.datetime, total: int) -> None:
    """A fan-out marked `total` rows dirty at `at` (one UPDATE: they all carry that dirty_since)."""
    try:
        cache.set(LAST_FANOUT, {"at": at.isoformat(), "total": total}, timeout=7 * 24 * 3600)
    except Exception:  # noqa: BLE001 - a metric never fails a fan-out
        pass


def scrape():
    t = now()
    dirty = GaugeMetricFamily("healthkit_status_dirty", "Statuses marked for recomputation.")
    dirty.add_metric([], PersonStatus.objects.filter(dirty_since__isnull=False).count())
    overdue = GaugeMetricFamily(
        "healthkit_status_overdue", "Statuses whose next change has come (next_change_at <= now)."
    )
    overdue.add_metric([], PersonStatus.objects.filter(next_change_at__lte=t).count())
    yield dirty
    yield overdue
    last = cache.get(LAST_FANOUT)
    if last:
        at = dt.datetime.fromisoformat(last["at"])
        remaining = GaugeMetricFamily("healthkit_fanout_remaining", "Rows of the last fan-out still dirty.")
        remaining.add_metric([], PersonStatus.objects.filter(dirty_since=at).count())
        total = GaugeMetricFamily("healthkit_fanout_total", "Rows the last fan-out marked dirty.")
        total.add_metric([], last["total"])
        started = GaugeMetricFamily("healthkit_fanout_started_timestamp", "When the last fan-out started (unix time).")
        started.add_metric([], at.timestamp())
        yield from (remaining, total, started)
