"""Prometheus metrics at `/metrics` (issue 17, item 5): prometheus_client through django-prometheus's
exporter, plus the portal's own gauges computed when Prometheus scrapes.

- Counters and histograms (throttled requests, feed-to-fresh latency, ...) are observed in the
  process where the event happens: a gunicorn worker, a Celery worker. With several processes
  prometheus_client's multiprocess mode adds them up: PROMETHEUS_MULTIPROC_DIR names a directory
  that every gunicorn and Celery process of the host shares (emptied before they start); gunicorn's
  `child_exit` and Celery's `worker_process_shutdown` mark a dead process's files (config/gunicorn.py,
  config/celery.py). Without it (one process, tests) the default registry is used.
- Gauges of the whole portal (dirty and overdue statuses, queue depths, fan-out progress, reviews
  flagged) are read at scrape time with cheap indexed counts, once per scrape, in the scraping
  process: an app registers a function that returns metric families (`scrape_register`, from its
  AppConfig.ready: the ground layer imports no app).
- Never public: the view answers only a request bearing METRICS_TOKEN (`Authorization: Bearer …`),
  and is 404 when no token is configured. Not the django-prometheus request middleware: it costs
  CPU on every status look-up (README, Production-like set-up).
"""

import hmac
import logging
from collections.abc import Callable, Iterable

import prometheus_client
from django.conf import settings
from django.http import Http404, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_prometheus.exports import ExportToDjangoView
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

from apps.core import workers

logger = logging.getLogger(__name__)

THROTTLED = prometheus_client.Counter(
    "healthkit_throttled_requests", "Requests refused with 429, by kind of budget (no caller named).", ["budget"]
)

_scrapers: list[Callable[[], Iterable]] = []


def scrape_register(fn: Callable[[], Iterable]) -> None:
    """Add a function returning metric families, called at every scrape. Idempotent by identity
    (AppConfig.ready may run twice in tests)."""
    if fn not in _scrapers:
        _scrapers.append(fn)


def throttled(budget: str) -> None:
    """A request refused for its budget `budget` (`anon`, `staff`, `identity`, a partner scope,
    `lookup:<kind>`): the budget's kind only, never who."""
    THROTTLED.labels(budget=budget).inc()


def queue_depths() -> Iterable:
    """Messages waiting in each Celery queue (Redis LLEN) and taken but not acknowledged."""
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return []
    client = workers.redis_client(url)
    names = [q.name for q in settings.CELERY_TASK_QUEUES]
    pipe = client.pipeline()
    for name in names:
        pipe.llen(name)
    pipe.hlen("unacked")
    pipe.zcount(workers.WORKERS_KEY, "-inf", "+inf")
    *depths, unacked, _members = pipe.execute()
    waiting = GaugeMetricFamily("healthkit_queue_depth", "Celery messages waiting in each queue.", labels=["queue"])
    for name, depth in zip(names, depths, strict=True):
        waiting.add_metric([name], depth)
    taken = GaugeMetricFamily("healthkit_queue_unacked", "Celery messages taken by a worker, not yet acknowledged.")
    taken.add_metric([], unacked)
    live = GaugeMetricFamily("healthkit_workers_live", "Celery worker processes that beat within the last seconds.")
    live.add_metric([], len(workers.live_members(client)))
    return [waiting, taken, live]


class _Scrape(Collector):
    def collect(self):
        for fn in [queue_depths, *_scrapers]:
            try:
                yield from fn()
            except Exception:  # noqa: BLE001 - one failing source must not hide the others
                logger.warning("metrics: %s failed", getattr(fn, "__name__", fn), exc_info=True)
                failed = GaugeMetricFamily("healthkit_scrape_error", "A metrics source failed.", labels=["source"])
                failed.add_metric([getattr(fn, "__name__", "?")], 1)
                yield failed


def _authorised(request) -> bool:
    token = settings.METRICS_TOKEN
    if not token:
        return False
    sent = request.META.get("HTTP_AUTHORIZATION", "")
    return sent.startswith("Bearer ") and hmac.compare_digest(sent[7:].encode(), token.encode())


@never_cache
@require_GET
def metrics_view(request):
    """The process (or, in multiprocess mode, every process's) metrics, then the scrape-time gauges."""
    if not _authorised(request):
        raise Http404  # the same answer as a path that does not exist: nothing to learn
    processes = ExportToDjangoView(request).content
    portal = CollectorRegistry(auto_describe=False)
    portal.register(_Scrape())
    return HttpResponse(
        processes + prometheus_client.generate_latest(portal), content_type=prometheus_client.CONTENT_TYPE_LATEST
    )
