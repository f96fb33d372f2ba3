"""The append-only audit: every manual change (business events written by services) and every
staff look-up of one person's record (SPEC §5, §7). Rows refuse update and delete."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.models import AppendOnlyError, AppendOnlyModel

from .choices import AccessVia, AuditKind, Origin

__all__ = ["AppendOnlyError", "AppendOnlyModel", "AuditEvent", "AccessLog"]


class AuditEvent(AppendOnlyModel):
    """A manual change: `kind` is the service's event (`AuditKind`: `popup.released`…), `origin`
    where it came from (`Origin`: admin, api, task, command)."""

    kind = models.CharField(_("kind"), max_length=64, db_index=True, choices=AuditKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_org = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    person = models.ForeignKey(
        "people.Person",
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_events",
    )
    at = models.DateTimeField(_("at"), db_index=True)
    reason = models.TextField(_("reason"), blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    origin = models.CharField(_("origin"), max_length=10, choices=Origin.choices, default=Origin.API)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["person", "at"], name="audit_person_at")]

    def __str__(self) -> str:
        return f"{self.kind} {self.at:%Y-%m-%d %H:%M}"


class AccessLog(AppendOnlyModel):
    """A staff look-up of one person's record: who, whom, when and why (the work item it came from
    or a reason the user gave). Purged after the retention period; manual changes never are."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), on_delete=models.PROTECT, related_name="+"
    )
    person = models.ForeignKey(
        "people.Person", verbose_name=_("person"), on_delete=models.CASCADE, related_name="access_logs"
    )
    at = models.DateTimeField(_("at"), db_index=True)
    why = models.CharField(_("why"), max_length=500)
    via = models.CharField(_("via"), max_length=20, choices=AccessVia.choices, default=AccessVia.ADMIN)

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["person", "at"], name="access_person_at")]

    def __str__(self) -> str:
        return f"{self.actor} → {self.person_id} {self.at:%Y-%m-%d %H:%M}"
