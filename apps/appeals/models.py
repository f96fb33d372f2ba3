"""Hotline appeals (12345 / 12326 / 12306) from people who think their status is wrong, routed to
the responsible organisation with a deadline and followed to resolution (SPEC §6)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.accounts.querysets import RestrictedQuerySet
from apps.core.history import HistoricalRecords
from apps.core.models import AppendOnlyModel, TimeStampedModel

from .choices import OPEN_STATES, AppealStatus, Category, Channel, RoutingBasis


class Appeal(TimeStampedModel):
    """An appeal a hotline operator opened for a caller. It is routed by SPEC §6 (community of
    residence, else of an open registration, else CDC), may be re-routed by the hotline, and is
    resolved — optionally with a release — by the organisation it is routed to before `due_at`.
    The caller's phone is kept encrypted, and shown masked only."""

    tracking_number = models.CharField(_("tracking number"), max_length=32, unique=True)
    person = models.ForeignKey(
        "people.Person", verbose_name=_("person"), on_delete=models.PROTECT, related_name="appeals"
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    category = models.CharField(_("category"), max_length=32, choices=Category.choices)
    description = models.TextField(_("description"))
    caller_phone_encrypted = models.TextField(_("caller phone (encrypted)"), blank=True, editable=False)
    caller_phone_display = models.CharField(_("caller phone"), max_length=24, blank=True, editable=False)
    status = models.CharField(
        _("status"), max_length=16, choices=AppealStatus.choices, default=AppealStatus.OPEN, db_index=True
    )
    routed_to = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("routed to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appeals",
    )
    routing_basis = models.CharField(
        _("routed because"), max_length=16, choices=RoutingBasis.choices, blank=True, default=""
    )
    due_at = models.DateTimeField(_("due at"), db_index=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("opened by"), on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    history = HistoricalRecords()

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")
        ordering = ["due_at"]
        indexes = [models.Index(fields=["routed_to", "status", "due_at"], name="appeal_queue")]

    def __str__(self) -> str:
        return self.tracking_number

    def is_overdue(self, at) -> bool:
        """Overdue once the deadline has passed with the appeal still open (at `due_at` itself it
        is not yet overdue)."""
        return self.status in OPEN_STATES and self.due_at < at


class AppealEvent(AppendOnlyModel):
    """A step in an appeal's life: who moved it from which state to which, and why. Never edited
    or deleted (the model and the database refuse it)."""

    appeal = models.ForeignKey(Appeal, verbose_name=_("appeal"), on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(_("from"), max_length=16, choices=AppealStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=16, choices=AppealStatus.choices)
    routed_to = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("routed to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(_("reason"), blank=True)
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("appeal event")
        verbose_name_plural = _("appeal events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"
