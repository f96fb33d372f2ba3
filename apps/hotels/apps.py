from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HotelsConfig(AppConfig):
    name = "apps.hotels"
    label = "hotels"
    verbose_name = _("Hotels")
