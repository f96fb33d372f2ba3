from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from apps.core import doors


class CaseworkConfig(AppConfig):
    name = "apps.casework"
    label = "casework"
    verbose_name = _("Casework")

    def ready(self):
        from . import services  # models are loaded only now

        # A row a superuser corrects in any app's admin (apps.core.admin.SuperuserWritesMixin).
        doors.casework_record_corrected.open(services.record_corrected)
