from django.db import models
from django.utils.translation import gettext_lazy as _


class RegistrationStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    HOME_OBSERVATION = "home_observation", _("home observation")
    NO_ISOLATION = "no_isolation", _("no isolation needed")
    CANCELLED = "cancelled", _("cancelled")
