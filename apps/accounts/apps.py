from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from apps.core import doors


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = _("Accounts and organisations")

    def ready(self):
        from . import access  # models are loaded only now

        # The audit sits below the access layer (every layer above writes it): the work item an
        # access-log entry names, and whether a user may read the audit, come through doors.
        doors.access_why_visible.open(access.why_visible)
        doors.access_require.open(access.require)
