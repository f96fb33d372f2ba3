"""The append-only audit: every manual change (business events written by services) and every
staff look-up of one person's record (SPEC §5, §7). Rows refuse update and delete."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.models import AppendOnlyError, AppendOnlyModel

from .choices import AccessVia, AuditKind, Origin

__all__ = [
    "AppendOnlyError",
    "AppendOnlyModel",
    "AuditEvent",
    "AccessLog",
    "AuditLeaf",
    "AuditLeafPurge",
    "AuditCheckpoint",
]


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


# --- the sealed audit (apps.audit.chain; README: Sealed audit) ---------------------------------------


class AuditLeaf(AppendOnlyModel):
    """One audit row sealed into the log: the `seq`-th leaf (from 0) of the RFC 6962 tree that the
    checkpoints sign. Kept when its row is purged, so the tree, and every checkpoint, still verify.
    `digest` is SHA-256 of the row's canonical bytes, `leaf_hash` SHA-256(0x00 || the leaf's
    entry), the entry naming the source, the row's id and time and its digest (apps.audit.chain)."""

    seq = models.BigIntegerField(_("sequence number"), primary_key=True)
    source = models.CharField(_("source"), max_length=16)
    row_id = models.BigIntegerField(_("row"))
    at = models.DateTimeField(_("at"))
    digest = models.CharField(_("row digest"), max_length=64)
    leaf_hash = models.CharField(_("leaf hash"), max_length=64)

    class Meta:
        verbose_name = _("sealed audit row")
        verbose_name_plural = _("sealed audit rows")
        ordering = ["seq"]
        constraints = [models.UniqueConstraint(fields=["source", "row_id"], name="audit_leaf_source_row")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.source}:{self.row_id}"


class AuditLeafPurge(AppendOnlyModel):
    """The retention purge removed the row of this leaf, at `purged_at`: written by the purge itself
    (on PostgreSQL inside its SECURITY DEFINER function, apps.retention.db), so a row gone without
    one is reported as removed."""

    leaf = models.OneToOneField(
        AuditLeaf, verbose_name=_("sealed audit row"), primary_key=True, on_delete=models.PROTECT, related_name="purge"
    )
    purged_at = models.DateTimeField(_("purged at"))

    class Meta:
        verbose_name = _("purged audit row")
        verbose_name_plural = _("purged audit rows")

    def __str__(self) -> str:
        return f"#{self.leaf_id} purged {self.purged_at:%Y-%m-%d}"


class AuditCheckpoint(AppendOnlyModel):
    """A signed head of the sealed audit: the first `size` leaves have the tree hash `root`
    (apps.audit.signing: what is signed, with which key). `frontier` is the compact range of those
    leaves (apps.audit.merkle), so the next seal extends the tree without reading old leaves; it
    is not signed, and verification recomputes everything from the leaves."""

    size = models.BigIntegerField(_("size"), db_index=True)
    root = models.CharField(_("root"), max_length=64)
    at = models.DateTimeField(_("at"))
    signature = models.CharField(_("signature"), max_length=128)
    kid = models.CharField(_("key id"), max_length=32)
    frontier = models.JSONField(_("frontier"), default=list)

    class Meta:
        verbose_name = _("audit checkpoint")
        verbose_name_plural = _("audit checkpoints")
        ordering = ["-size", "-id"]

    def __str__(self) -> str:
        return f"{self.size} {self.root[:12]} {self.at:%Y-%m-%d %H:%M}"
