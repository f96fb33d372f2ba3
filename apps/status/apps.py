from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from apps.core import doors, metrics


class StatusConfig(AppConfig):
    name = "apps.status"
    label = "status"
    verbose_name = _("Health status")

    def ready(self):
        # The doors through which the layers below (evidence, people, policy, casework's
        # corrections) make statuses recompute without importing the engine (apps.core.doors).
        from . import metrics as status_metrics
        from . import services  # models are loaded only now

        doors.status_mark_dirty.open(services.status_mark_dirty)
        doors.status_fanout_areas.open(services.status_fanout_areas)
        doors.status_due_by.open(services.status_due_by)
        metrics.scrape_register(status_metrics.scrape)  # its gauges at /metrics (apps.core.metrics)
