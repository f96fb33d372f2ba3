from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    CITY_12345 = "12345", _("12345 city hotline")
    AVIATION_12326 = "12326", _("12326 civil aviation")
    RAILWAY_12306 = "12306", _("12306 railway")


class Category(models.TextChoices):
    WRONGLY_FLAGGED = "wrongly_flagged", _("wrongly flagged (误伤)")
    STATUS_NOT_UPDATED = "status_not_updated", _("status not updated")
    TEST_NOT_UPLOADED = "test_not_uploaded", _("test result not uploaded")
    PHONE_PROBLEM = "phone_problem", _("phone number problem")
    ELDERLY_OR_CHILD = "elderly_or_child", _("elderly or child")
    DEAD_LOOP = "dead_loop", _("cannot reach the community (dead loop)")
    OTHER = "other", _("other")


class AppealStatus(models.TextChoices):
    OPEN = "open", _("open")
    ROUTED = "routed", _("routed")
    IN_PROGRESS = "in_progress", _("in progress")
    RESOLVED = "resolved", _("resolved")
    REJECTED = "rejected", _("rejected")
