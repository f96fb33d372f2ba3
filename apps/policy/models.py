"""The public-health policy placed on the divisions: risk designations, local-case reports and
border-port counties per county, and the effective-dated parameters every rule reads (SPEC §8).

These models moved here from apps.areas without touching the database: each keeps its table
(`areas_<model>`, its history `areas_historical<model>`), whose append-only guards
(apps.core.db) are installed by name in apps/areas/migrations/0004_history_append_only.py."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.areas.models import Area
from apps.core.history import HistoricalRecords
from apps.core.models import TimeStampedModel

from .choices import RiskLevel
from .querysets import PolicyQuerySet, RiskDesignationQuerySet


class RiskDesignation(models.Model):
    """A county's risk level from `effective_from` on. A county's level at `t` is that of the
    designation with the latest `effective_from` at or before `t` (ties: published last), low when
    there is none. Designations are never edited; a new one supersedes."""

    area = models.ForeignKey(Area, verbose_name=_("county"), on_delete=models.PROTECT, related_name="designations")
    level = models.CharField(_("level"), max_length=10, choices=RiskLevel.choices)
    effective_from = models.DateTimeField(_("effective from"))
    published_at = models.DateTimeField(_("published at"), auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    ingestion = models.ForeignKey(
        "evidence.Ingestion",
        verbose_name=_("ingestion"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    history = HistoricalRecords(table_name="areas_historicalriskdesignation")

    objects = RiskDesignationQuerySet.as_manager()

    class Meta:
        db_table = "areas_riskdesignation"
        verbose_name = _("risk designation")
        verbose_name_plural = _("risk designations")
        ordering = ["-effective_from", "-id"]
        indexes = [models.Index(fields=["area", "effective_from", "id"], name="designation_area_eff")]

    def __str__(self) -> str:
        return f"{self.area_id} {self.get_level_display()} {self.effective_from:%Y-%m-%d %H:%M}"


class LocalCaseReport(models.Model):
    """Local cases reported in a county on a date (feed `local-cases`), driving popup ①."""

    source = models.CharField(_("source"), max_length=32, default="local-cases")
    external_id = models.CharField(_("external id"), max_length=128)
    area = models.ForeignKey(Area, verbose_name=_("county"), on_delete=models.PROTECT, related_name="local_cases")
    reported_on = models.DateField(_("reported on"))
    count = models.PositiveIntegerField(_("cases"), default=1)
    content_hash = models.CharField(max_length=64, editable=False, blank=True)
    ingested_at = models.DateTimeField(_("ingested at"), db_index=True)
    ingestion = models.ForeignKey(
        "evidence.Ingestion",
        verbose_name=_("ingestion"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    history = HistoricalRecords(table_name="areas_historicallocalcasereport")

    class Meta:
        db_table = "areas_localcasereport"
        verbose_name = _("local-case report")
        verbose_name_plural = _("local-case reports")
        ordering = ["-reported_on"]
        constraints = [models.UniqueConstraint(fields=["source", "external_id"], name="localcase_source_external_id")]
        indexes = [models.Index(fields=["area", "reported_on"], name="localcase_area_date")]

    def __str__(self) -> str:
        return f"{self.area_id} {self.reported_on} ×{self.count}"


class BorderPortCounty(models.Model):
    """A land-border-port county during [effective_from, effective_to) — popup ⑤."""

    area = models.ForeignKey(Area, verbose_name=_("county"), on_delete=models.PROTECT, related_name="border_ports")
    effective_from = models.DateTimeField(_("effective from"))
    effective_to = models.DateTimeField(_("effective to"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    ingestion = models.ForeignKey(
        "evidence.Ingestion",
        verbose_name=_("ingestion"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    history = HistoricalRecords(table_name="areas_historicalborderportcounty")

    class Meta:
        db_table = "areas_borderportcounty"
        verbose_name = _("border-port county")
        verbose_name_plural = _("border-port counties")
        ordering = ["area_id", "-effective_from"]
        indexes = [models.Index(fields=["area", "effective_from"], name="borderport_area_eff")]

    def __str__(self) -> str:
        return str(self.area_id)


def _days(label: str, default: int) -> models.PositiveIntegerField:
    return models.PositiveIntegerField(label, default=default, validators=[MinValueValidator(0)])


class PolicyVersion(TimeStampedModel):
    """One version of the policy parameters (SPEC §8), in force from `effective_from` until the next
    version's. An evaluation at `t` uses the version with the latest `effective_from` at or before
    `t` (ties: the one created last); the defaults apply before any version."""

    effective_from = models.DateTimeField(_("effective from"), db_index=True)
    lookback_days = _days(_("look-back window (days)"), 14)
    local_case_clear_days = _days(_("local case clears after (days)"), 14)
    telecom_min_stay_hours = _days(_("minimum telecom stay (hours)"), 4)
    inbound_quarantine_days = _days(_("inbound quarantine (days)"), 21)
    popup4_grace_hours = _days(_("popup 4 grace (hours)"), 72)
    entry_nat_window_hours = _days(_("entry NAT window (hours)"), 48)
    hotel_nat_validity_days = _days(_("hotel NAT validity (days)"), 7)
    phone_unbind_days = _days(_("phone counts after unbinding (days)"), 14)
    # The background review of releases (SPEC §5, apps.reviews): more persons released by one user
    # within an hour, a release outside the working hours (Beijing time, [start, end)), a popup
    # back within so many hours of its release are findings.
    review_burst_per_hour = _days(_("review: persons one user may release an hour"), 30)
    working_hours_start = models.PositiveSmallIntegerField(
        _("review: working hours start (hour)"), default=8, validators=[MaxValueValidator(24)]
    )
    working_hours_end = models.PositiveSmallIntegerField(
        _("review: working hours end (hour)"), default=20, validators=[MaxValueValidator(24)]
    )
    reraised_within_hours = _days(_("review: popup back within (hours) of a release"), 72)
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    history = HistoricalRecords(table_name="areas_historicalpolicyversion")

    objects = PolicyQuerySet.as_manager()

    PARAMETERS = (
        "lookback_days",
        "local_case_clear_days",
        "telecom_min_stay_hours",
        "inbound_quarantine_days",
        "popup4_grace_hours",
        "entry_nat_window_hours",
        "hotel_nat_validity_days",
        "phone_unbind_days",
        "review_burst_per_hour",
        "working_hours_start",
        "working_hours_end",
        "reraised_within_hours",
    )

    class Meta:
        db_table = "areas_policyversion"
        verbose_name = _("policy version")
        verbose_name_plural = _("policy versions")
        ordering = ["-effective_from", "-id"]

    def __str__(self) -> str:
        return f"{_('policy')} {self.effective_from:%Y-%m-%d %H:%M}"
