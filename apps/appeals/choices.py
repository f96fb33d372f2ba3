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


OPEN_STATES = (AppealStatus.OPEN, AppealStatus.ROUTED, AppealStatus.IN_PROGRESS)

# How long the responsible organisation has to resolve an appeal, by category, counted from when
# the hotline opened it. The shortest are the cases that keep someone from travelling or from
# getting home today (a status that did not update after a release, the elderly and children who
# depend on a guardian, and the "dead loop" of a person who cannot come in to be verified); a
# wrong flag or a missing test result is a working day; a phone-binding problem needs the carrier.
DEADLINE_HOURS: dict[str, int] = {
    Category.WRONGLY_FLAGGED: 24,
    Category.STATUS_NOT_UPDATED: 12,
    Category.TEST_NOT_UPLOADED: 24,
    Category.PHONE_PROBLEM: 48,
    Category.ELDERLY_OR_CHILD: 12,
    Category.DEAD_LOOP: 12,
    Category.OTHER: 72,
}


class RoutingBasis(models.TextChoices):
    """Why an appeal went where it went (SPEC §6)."""

    RESIDENCE = "residence", _("community of residence")
    REGISTRATION = "registration", _("community of an open registration")
    CDC = "cdc", _("CDC (no community)")
    MANUAL = "manual", _("re-routed by the hotline")
    NONE = "none", _("no organisation to route to")
