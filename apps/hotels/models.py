"""Hotel guest registration (SPEC §4): a check-in with a negative NAT verifies the guest's
city-precision stays and satisfies popup ④; the guest belongs to the hotel while checked in."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import Organisation
from apps.accounts.querysets import RestrictedQuerySet
from apps.core.history import HistoricalRecords
from apps.evidence.choices import LabResultValue


class HotelStay(models.Model):
    """A guest registered by hotel staff, from check-in to check-out. The NAT the clerk relied on is
    kept here as seen (`nat_*`); a test taken at the hotel is also stored as a lab result (`nat`).
    `declaration` is set when the check-in verified the guest (a valid negative NAT): it is what
    the status engine reads, and it stays after check-out."""

    hotel = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("hotel"),
        on_delete=models.PROTECT,
        related_name="guest_stays",
        limit_choices_to={"kind": "hotel"},
    )
    person = models.ForeignKey(
        "people.Person", verbose_name=_("guest"), on_delete=models.PROTECT, related_name="hotel_stays"
    )
    checked_in_at = models.DateTimeField(_("checked in at"))
    checked_out_at = models.DateTimeField(_("checked out at"), null=True, blank=True)
    nat = models.ForeignKey(
        "evidence.LabResult", verbose_name=_("NAT"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    nat_sampled_at = models.DateTimeField(_("NAT sampled at"), null=True, blank=True)
    nat_result = models.CharField(_("NAT result"), max_length=10, choices=LabResultValue.choices, blank=True)
    nat_at_hotel = models.BooleanField(_("NAT taken at the hotel"), default=False)
    stay = models.OneToOneField(
        "evidence.Stay",
        verbose_name=_("stay record"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="hotel_stay",
    )
    declaration = models.OneToOneField(
        "evidence.ItineraryDeclaration",
        verbose_name=_("verification"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("registered by"), on_delete=models.PROTECT, related_name="+"
    )
    checked_out_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("checked out by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    history = HistoricalRecords()

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("hotel stay")
        verbose_name_plural = _("hotel stays")
        ordering = ["-checked_in_at"]
        indexes = [models.Index(fields=["hotel", "checked_out_at"], name="hotelstay_hotel_out")]
        constraints = [
            # One open stay a guest a hotel, whatever two desks or a double click send at once.
            models.UniqueConstraint(
                fields=["hotel", "person"], condition=models.Q(checked_out_at__isnull=True), name="hotelstay_one_open"
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} @ {self.hotel}"

    @property
    def verified(self) -> bool:
        return self.declaration_id is not None


class CurrentGuest(HotelStay):
    """The guests still checked in, with their colour: the hotel's front-desk list."""

    class Meta:
        proxy = True
        verbose_name = _("current guest")
        verbose_name_plural = _("current guests")


class HotelOverview(Organisation):
    """The hotels of a district with their current guests counted by state, for the district's
    culture-and-tourism officers (read-only)."""

    class Meta:
        proxy = True
        verbose_name = _("hotel overview")
        verbose_name_plural = _("hotels overview")
