"""`Authorization: Token <token>` against hashed, revocable, expiring API tokens.

With STAFF_OTP_REQUIRED, a token is no way around the second factor: a staff user whose browser
session must pass it (`access.needs_second_factor`: the roles that see unmasked data, superusers)
can use a token only once they have enrolled an authenticator (a confirmed TOTP device). A token
cannot ask for a code on every call, so enrolment is what it checks: the same person has shown
they hold the device at a login. Until then every call answers 403 saying to enrol; partner
systems and the other roles are not concerned."""

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp import user_has_device
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from . import access
from .models import ApiToken
from .services import token_digest


class ApiTokenAuthentication(TokenAuthentication):
    keyword = "Token"

    def authenticate_credentials(self, key):
        now = timezone.now()
        token = (
            ApiToken.objects.select_related("user", "user__organisation", "user__partner")
            .usable(now)
            .filter(digest=token_digest(key))
            .first()
        )
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
        if second_factor_missing(token.user):
            raise exceptions.PermissionDenied(
                _("Enrol the second factor (an authenticator app) at the portal's login before using an API token.")
            )
        # Touch last_used_at at most once a minute: millions of look-ups must not each write.
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token


def second_factor_missing(user) -> bool:
    """Whether this user must pass the second factor (STAFF_OTP_REQUIRED and their role) and has
    no confirmed device to pass it with."""
    return (
        settings.STAFF_OTP_REQUIRED and access.needs_second_factor(user) and not user_has_device(user, confirmed=True)
    )
