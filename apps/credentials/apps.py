from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CredentialsConfig(AppConfig):
    """Signed status credentials (SPEC §11): issuing a person's status as a COSE-signed QR code,
    publishing the keys a checkpoint verifies it with offline, and the trust list of other
    regions' keys (互认). It reads the status engine and is read by nothing: a workflow layer."""

    name = "apps.credentials"
    label = "credentials"
    verbose_name = _("Signed status credentials")
