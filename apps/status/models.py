"""The materialised status of each person, the popup episodes it is made of, the releases staff
make, and the log of state transitions partners read (SPEC §1, §5, §10)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.accounts.querysets import RestrictedQuerySet
from apps.core.models import AppendOnlyModel

from .choices import PopupEnd, State
from .engine.registry import number_choices


class PersonStatus(models.Model):
    """One row per person: the last computed status. It is never served past `next_change_at`
    (the earliest moment it can change without new data); `version` orders recomputations so a
    late one never overwrites a newer result."""

    person = models.OneToOneField(
        "people.Person", verbose_name=_("person"), primary_key=True, on_delete=models.CASCADE, related_name="status"
    )
    # Not indexed alone: `status_state_since` (state, state_since) serves every filter by state, and
    # a column indexed twice is two entries to write on every change of state (issue 17).
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.GREEN)
    popups = models.JSONField(_("active popups"), default=list, blank=True)
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    computed_at = models.DateTimeField(_("computed at"))
    valid_until = models.DateTimeField(_("valid until"))
    next_change_at = models.DateTimeField(_("next change at"), null=True, blank=True)  # status_next_change
    state_since = models.DateTimeField(_("state since"))
    evidence_watermark = models.BigIntegerField(_("evidence known up to ingestion"), default=0)
    version = models.PositiveBigIntegerField(_("version"), default=0)
    dirty_since = models.DateTimeField(_("marked for recomputation at"), null=True, blank=True)

    class Meta:
        verbose_name = _("person status")
        verbose_name_plural = _("person statuses")
        indexes = [
            models.Index(fields=["state", "state_since"], name="status_state_since"),
            # The restrictions feed's `restricted` list (issue 16): only the rows not green, in the
            # feed's order, so a page is a range scan of page_size entries and never a sort.
            models.Index(
                fields=["state_since", "person"], name="status_restricted", condition=~models.Q(state="green")
            ),
            # Only the few rows marked dirty: a full index kept tens of thousands of dead entries
            # after a fan-out for the sweep to walk.
            models.Index(fields=["dirty_since"], name="status_dirty", condition=models.Q(dirty_since__isnull=False)),
            # The sweep's `next_change_at <= now`: the many rows with no next change (green, no
            # evidence) are not in it, and an update leaving them without one never touches it.
            models.Index(
                fields=["next_change_at"], name="status_next_change", condition=models.Q(next_change_at__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id}: {self.get_state_display()}"


class StatusTransition(AppendOnlyModel):
    """Every change of a person's state, for the restrictions feed of rail and air. Never edited
    or deleted (the model and the database refuse it): partners read it from any cursor."""

    person = models.ForeignKey(
        "people.Person", verbose_name=_("person"), on_delete=models.CASCADE, related_name="transitions"
    )
    from_state = models.CharField(_("from"), max_length=10, choices=State.choices)
    to_state = models.CharField(_("to"), max_length=10, choices=State.choices)
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("status transition")
        verbose_name_plural = _("status transitions")
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["at", "id"], name="transition_at"),
            models.Index(fields=["to_state", "at", "id"], name="transition_to_at"),
        ]

    def __str__(self) -> str:
        return f"{self.from_state} → {self.to_state} {self.at:%Y-%m-%d %H:%M}"


class Popup(models.Model):
    """One episode of a numbered popup (①–⑤) for a person: from `since` until it clears on its
    own (`auto`) or is released (`release`)."""

    # No index of its own: `popup_person_number` (person, number, ended_at) starts with it.
    person = models.ForeignKey(
        "people.Person",
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="popup_episodes",
        db_index=False,
    )
    number = models.PositiveSmallIntegerField(_("popup number"), choices=number_choices())
    since = models.DateTimeField(_("since"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    ended_by = models.CharField(_("ended by"), max_length=10, choices=PopupEnd.choices, blank=True)
    release = models.ForeignKey(
        "status.Release",
        verbose_name=_("release"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ended_popups",
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("popup")
        verbose_name_plural = _("popups")
        ordering = ["-since"]
        indexes = [models.Index(fields=["person", "number", "ended_at"], name="popup_person_number")]

    def __str__(self) -> str:
        return f"{_('popup')} {self.number} {self.since:%Y-%m-%d %H:%M}"

    @property
    def active(self) -> bool:
        return self.ended_at is None


class Release(AppendOnlyModel):
    """A manual release of a popup (SPEC §5). It covers the evidence ingested up to
    `evidence_watermark`; later evidence raises the popup again. Never edited or deleted: the
    model refuses it and so does the database (a trigger), except that `status_after` is filled
    once, in the transaction that creates the release."""

    append_only_fill_once = ("status_after",)

    person = models.ForeignKey(
        "people.Person", verbose_name=_("person"), on_delete=models.PROTECT, related_name="releases"
    )
    popup_number = models.PositiveSmallIntegerField(_("popup number"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("released by"), on_delete=models.PROTECT, related_name="+"
    )
    actor_org = models.ForeignKey(
        "accounts.Organisation", verbose_name=_("organisation"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(_("reason"))
    itinerary_verified = models.BooleanField(_("itinerary verified"))
    nat_negative = models.BooleanField(_("negative NAT on record or seen"))
    commitment_signed = models.BooleanField(_("commitment letter signed"))
    evidence_watermark = models.BigIntegerField(_("evidence known up to ingestion"))
    status_before = models.JSONField(_("status before"))
    status_after = models.JSONField(_("status after"), default=dict)
    created_at = models.DateTimeField(_("released at"))

    class Meta:
        verbose_name = _("release")
        verbose_name_plural = _("releases")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["person", "popup_number", "created_at"], name="release_person_popup")]

    def __str__(self) -> str:
        return f"{_('release')} #{self.pk} {_('popup')} {self.popup_number}"


class ReleaseAttachment(AppendOnlyModel):
    """An evidence file attached to a release (a photo of the commitment letter, a test report)."""

    release = models.ForeignKey(
        Release, verbose_name=_("release"), on_delete=models.PROTECT, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to="releases/%Y/%m/")
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("release attachment")
        verbose_name_plural = _("release attachments")

    def __str__(self) -> str:
        return self.file.name
