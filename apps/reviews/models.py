"""The review of each manual release (SPEC §5) and the decisions taken on it.

A `ReleaseReview` is written by the background job alone (`services.release_review_run`): created
pending in the release's own transaction, completed once, and re-checked when the released popup
comes back. A re-check only ever adds findings: what a review found stays on it. Decisions are
separate, append-only rows (`ReviewDecision`), because they are manual changes (who, when, why:
never edited or deleted, SPEC §5) while the review itself must stay open to the job's re-checks; a
re-check that adds a finding after a decision puts the review back before the auditors, and their
next decision is a new row, so every decision keeps the findings it was taken on."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.accounts.querysets import RestrictedQuerySet
from apps.core.models import AppendOnlyModel

from .choices import DecisionKind, ReviewStatus


class ReleaseReview(models.Model):
    """The audit of one release: `clean` or `flagged` with findings, each
    `{"code", "params", "evidence": [{"kind", "id"}], "found_at"}` (messages rendered on read).

    `codes` repeats the finding codes as `,code,code,` so lists filter by one on every database;
    `reviewed_against` is what the job read (the release's evidence watermark, the policy version,
    the moment of the review). `due_since` is set while a run is owed (a new release, a popup that
    came back) and cleared by the run, so a lost task is found again by the sweep."""

    release = models.OneToOneField(
        "status.Release", verbose_name=_("release"), primary_key=True, on_delete=models.PROTECT, related_name="review"
    )
    status = models.CharField(
        _("review"), max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.PENDING, db_index=True
    )
    findings = models.JSONField(_("findings"), default=list, blank=True)
    codes = models.CharField(_("finding codes"), max_length=300, default="", blank=True, editable=False)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    rechecked_at = models.DateTimeField(_("re-checked at"), null=True, blank=True)
    reviewed_against = models.JSONField(_("reviewed against"), default=dict, blank=True)
    reraised_at = models.DateTimeField(_("popup came back at"), null=True, blank=True)
    due_since = models.DateTimeField(_("review due since"), null=True, blank=True)
    awaiting_decision = models.BooleanField(_("awaiting an auditor"), default=False)
    referral_open = models.BooleanField(_("referred, open at the CDC"), default=False)
    created_at = models.DateTimeField(_("created at"))

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("release review")
        verbose_name_plural = _("release reviews")
        ordering = ["-created_at", "-release"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="review_status_created"),
            models.Index(fields=["created_at"], name="review_awaiting", condition=models.Q(awaiting_decision=True)),
            models.Index(fields=["created_at"], name="review_referral_open", condition=models.Q(referral_open=True)),
            models.Index(fields=["due_since"], name="review_due", condition=models.Q(due_since__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{_('review of release')} #{self.release_id}: {self.get_status_display()}"

    @property
    def finding_codes(self) -> list[str]:
        return [f["code"] for f in self.findings]


class ReviewDecision(AppendOnlyModel):
    """A decision on a review: an auditor confirms the release or refers it to the CDC (with the
    finding codes it was taken on), or a CDC officer closes a referral. Never edited or deleted."""

    review = models.ForeignKey(
        ReleaseReview, verbose_name=_("review"), on_delete=models.PROTECT, related_name="decisions"
    )
    kind = models.CharField(_("decision"), max_length=10, choices=DecisionKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("decided by"), on_delete=models.PROTECT, related_name="+"
    )
    actor_org = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.TextField(_("reason"))
    codes = models.JSONField(_("findings decided on"), default=list, blank=True)
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("review decision")
        verbose_name_plural = _("review decisions")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["review", "at"], name="decision_review_at")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"
