from django.db import models
from django.utils.translation import gettext_lazy as _


class OrgKind(models.TextChoices):
    DISTRICT = "district", _("district")
    STREET = "street", _("street")
    COMMUNITY = "community", _("community")
    HOTEL = "hotel", _("hotel")
    TOURISM_BUREAU = "tourism_bureau", _("culture and tourism bureau")
    HOTLINE = "hotline", _("hotline centre")
    CDC = "cdc", _("CDC")
    PARTNER = "partner", _("partner system")


class Role(models.TextChoices):
    COMMUNITY_WORKER = "community_worker", _("community worker")
    HOTEL_STAFF = "hotel_staff", _("hotel staff")
    TOURISM_OFFICER = "tourism_officer", _("culture and tourism officer")
    HOTLINE_OPERATOR = "hotline_operator", _("hotline operator")
    CDC_OFFICER = "cdc_officer", _("CDC officer")
    POLICY_ADMIN = "policy_admin", _("policy administrator")
    AUDITOR = "auditor", _("auditor")
    PARTNER = "partner", _("partner system")


class Scope(models.TextChoices):
    FEEDS = "feeds", _("data feeds")
    STATUS = "status", _("status look-ups")
    RESTRICTIONS = "restrictions", _("ticket restrictions")
