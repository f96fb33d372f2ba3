from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from apps.core.db import after_migrate


class RetentionConfig(AppConfig):
    name = "apps.retention"
    label = "retention"
    verbose_name = _("Retention")

    def ready(self):
        from .db import purge_functions_refresh

        after_migrate(purge_functions_refresh)
