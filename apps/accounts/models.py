"""Organisations, staff users with one role and one organisation, partner systems and API tokens."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from apps.core.history import HistoricalRecords
from apps.core.models import TimeStampedModel

from .choices import OrgKind, Role, Scope
from .querysets import ApiTokenQuerySet, OrganisationQuerySet


class Organisation(TimeStampedModel):
    """A unit staff work for: district → street → community, hotels in a district, the district
    culture-and-tourism bureau, hotline centres, CDC and partner systems. `code` is the key the
    command line and the API use."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=OrgKind.choices, db_index=True)
    name = models.CharField(_("name"), max_length=200)
    area = models.ForeignKey(
        "areas.Area",
        verbose_name=_("area"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="organisations",
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class User(AbstractUser):
    """A staff member (one role, one organisation) or the service account of a partner system."""

    role = models.CharField(_("role"), max_length=32, choices=Role.choices, blank=True, db_index=True)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
    )
    history = HistoricalRecords(excluded_fields=["last_login", "password"])

    class Meta:
        verbose_name = _("staff user")
        verbose_name_plural = _("staff users")

    @property
    def is_partner(self) -> bool:
        return self.role == Role.PARTNER


class PartnerSystem(TimeStampedModel):
    """A system that feeds data in or reads statuses out (rail, air, carriers, labs, gateways).
    It acts through its own service user; its scopes decide which endpoints it may call."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    scopes = models.JSONField(
        _("scopes"), default=list, help_text=format_lazy(_("Any of: {}"), ", ".join(Scope.values))
    )
    user = models.OneToOneField(User, verbose_name=_("service user"), on_delete=models.PROTECT, related_name="partner")
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("partner system")
        verbose_name_plural = _("partner systems")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def has_scope(self, scope: str) -> bool:
        return self.is_active and scope in self.scopes


class ApiToken(models.Model):
    """An API token. Only its SHA-256 digest is stored; the token itself is shown once, at
    creation. Tokens can be revoked and expire; a user may hold several during a rotation."""

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens")
    digest = models.CharField(_("digest"), max_length=64, unique=True)
    prefix = models.CharField(_("prefix"), max_length=8, help_text=_("First characters, to recognise a token."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    # Set when a rotation replaced the token: it works out its grace period but is never rotated
    # again, so a leaked token cannot keep renewing itself.
    replaced_at = models.DateTimeField(_("replaced at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    def is_usable(self, at) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > at)
