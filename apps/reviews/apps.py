from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from apps.core import doors, metrics


class ReviewsConfig(AppConfig):
    """The background review of every manual release (SPEC §5): lower layers reach it only through
    the doors opened here."""

    name = "apps.reviews"
    label = "reviews"
    verbose_name = _("Release reviews")

    def ready(self):
        from . import metrics as review_metrics
        from . import selectors, services  # models are loaded only now

        doors.release_recorded.open(services.reviews_open)
        doors.release_reraised.open(services.reviews_recheck)
        doors.reviews_referred_queue.open(selectors.referred_queue_items)
        metrics.scrape_register(review_metrics.scrape)  # its gauges at /metrics (apps.core.metrics)
