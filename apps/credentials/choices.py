"""The credentials' vocabularies."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class KeyAlgorithm(models.TextChoices):
    """COSE signature algorithms a credential may be signed with (RFC 9053): ECDSA on P-256 with
    SHA-256, as most EU DCC issuers use, or Ed25519."""

    ES256 = "ES256", _("ECDSA P-256 (ES256)")
    EDDSA = "EdDSA", _("Ed25519 (EdDSA)")
