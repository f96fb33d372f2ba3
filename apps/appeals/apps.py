from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from apps.core import doors


class AppealsConfig(AppConfig):
    name = "apps.appeals"
    label = "appeals"
    verbose_name = _("Appeals")

    def ready(self):
        from . import selectors  # models are loaded only now

        # The appeals in casework's work queue (apps.casework.selectors.work_queue).
        doors.appeals_to_resolve.open(selectors.appeals_to_resolve)
