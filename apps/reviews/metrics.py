"""Release reviews' metric (apps.core.metrics; issue 17, item 5): reviews flagged and awaiting
an auditor, counted at scrape time on the indexed review status. Registered from ReviewsConfig.ready."""

from prometheus_client.core import GaugeMetricFamily

from .choices import ReviewStatus
from .models import ReleaseReview


def scrape():
    flagged = GaugeMetricFamily("healthkit_reviews_flagged", "Release reviews flagged (with findings).")
    flagged.add_metric([], ReleaseReview.objects.filter(status=ReviewStatus.FLAGGED).count())
    awaiting = GaugeMetricFamily("healthkit_reviews_awaiting_decision", "Flagged reviews awaiting an auditor.")
    awaiting.add_metric([], ReleaseReview.objects.filter(awaiting_decision=True).count())
    yield flagged
    yield awaiting
