"""The trust list of other regions' credential keys (互认, SPEC §11) and the server-side record of
issued credentials that lets online verification say whether a status changed since issue."""

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.history import HistoricalRecords
from apps.core.models import TimeStampedModel

from .choices import KeyAlgorithm

REGION_CODE = RegexValidator(r"^\d{6}$", _("A region code is the six digits of GB/T 2260."))


class TrustedIssuer(TimeStampedModel):
    """Another region whose credentials this portal and its checkpoints accept (mutual
    recognition, as the seeds ask of Tianjin and Hebei). Its keys say from when to when; an
    issuer with no key in force is on the list but recognised for nothing."""

    region = models.CharField(_("region code"), max_length=6, unique=True, validators=[REGION_CODE])
    name = models.CharField(_("name"), max_length=100)
    note = models.CharField(_("note"), max_length=500, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("trusted issuer")
        verbose_name_plural = _("trusted issuers")
        ordering = ["region"]

    def __str__(self) -> str:
        return f"{self.region} {self.name}"


class TrustedKey(TimeStampedModel):
    """One public key of a trusted region, effective-dated: it verifies the credentials that
    region issued from `valid_from` until `valid_to` (open when empty), by their issue time. A key
    is never deleted (its history shows what was trusted when); it is ended by its `valid_to`."""

    issuer = models.ForeignKey(TrustedIssuer, verbose_name=_("issuer"), on_delete=models.PROTECT, related_name="keys")
    kid = models.CharField(_("key id"), max_length=64)
    alg = models.CharField(_("algorithm"), max_length=10, choices=KeyAlgorithm.choices, default=KeyAlgorithm.ES256)
    public_key = models.TextField(_("public key (PEM)"))
    valid_from = models.DateTimeField(_("valid from"))
    valid_to = models.DateTimeField(_("valid to"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("trusted key")
        verbose_name_plural = _("trusted keys")
        ordering = ["issuer__region", "-valid_from"]
        constraints = [models.UniqueConstraint(fields=["issuer", "kid"], name="trustedkey_issuer_kid")]

    def __str__(self) -> str:
        return f"{self.issuer_id} {self.kid}"


class IssuedCredential(models.Model):
    """The server's own note of one credential it issued, keyed by the credential's random CWT
    ID (`cti`), so the credential itself carries no identifier of the person: only this table
    leads from it to the person and the status version it was issued from (for `superseded`).
    Rows are kept only until the credential expires (`issued_credentials_purge`)."""

    cti = models.CharField(_("credential id"), max_length=32, primary_key=True)
    person = models.ForeignKey("people.Person", verbose_name=_("person"), on_delete=models.CASCADE, related_name="+")
    version = models.PositiveBigIntegerField(_("status version"))
    state = models.CharField(_("state"), max_length=10)
    popups = models.JSONField(_("active popups"), default=list)
    expires_at = models.DateTimeField(_("expires at"), db_index=True)

    class Meta:
        verbose_name = _("issued credential")
        verbose_name_plural = _("issued credentials")

    def __str__(self) -> str:
        return self.cti
