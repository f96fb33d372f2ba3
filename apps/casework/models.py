"""Community casework: returnees registering with a community before they arrive (京心相助) and the
itinerary verifications community workers record (SPEC §4–6)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.accounts.querysets import RestrictedQuerySet
from apps.core.history import HistoricalRecords
from apps.core.models import TimeStampedModel

from .choices import RegistrationStatus


class CommunityRegistration(TimeStampedModel):
    """A returnee's registration with a community; the community decides home observation or
    no isolation."""

    person = models.ForeignKey(
        "people.Person", verbose_name=_("person"), on_delete=models.PROTECT, related_name="registrations"
    )
    community = models.ForeignKey(
        "accounts.Organisation", verbose_name=_("community"), on_delete=models.PROTECT, related_name="registrations"
    )
    arriving_at = models.DateTimeField(_("arriving at"))
    from_area = models.ForeignKey(
        "areas.Area", verbose_name=_("coming from"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=RegistrationStatus.choices,
        default=RegistrationStatus.PENDING,
        db_index=True,
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    history = HistoricalRecords()

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("community registration")
        verbose_name_plural = _("community registrations")
        ordering = ["created_at"]
        indexes = [models.Index(fields=["community", "status", "created_at"], name="registration_queue")]

    def __str__(self) -> str:
        return f"{self.person} → {self.community}"


class ItineraryVerification(models.Model):
    """A community worker's record that a person's itinerary was verified (remotely or in
    person), with what was checked."""

    person = models.ForeignKey(
        "people.Person", verbose_name=_("person"), on_delete=models.PROTECT, related_name="verifications"
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("verified by"), on_delete=models.PROTECT, related_name="+"
    )
    verified_at = models.DateTimeField(_("verified at"))
    declaration = models.ForeignKey(
        "evidence.ItineraryDeclaration",
        verbose_name=_("declaration"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    remote = models.BooleanField(_("verified remotely"), default=False)
    note = models.TextField(_("note"))

    class Meta:
        verbose_name = _("itinerary verification")
        verbose_name_plural = _("itinerary verifications")
        ordering = ["-verified_at"]

    def __str__(self) -> str:
        return f"{self.person} {self.verified_at:%Y-%m-%d %H:%M}"
