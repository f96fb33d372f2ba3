"""Staff sessions: ended when left idle, and held at the second factor until it is passed.

Runs after django-otp's OTPMiddleware (which gives `request.user.is_verified()`). API requests
authenticated by a token carry no session and are not touched here; a browser session calling the
API is held like any page, with a 403 in JSON instead of a redirect."""

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from . import access

SESSION_SEEN = "portal_seen_at"
SESSION_STARTED = "portal_started_at"
# Pages a held session may still open: the second factor itself, logging out, static files.
OPEN_PREFIXES = ("/static/", "/media/", "/i18n/")


def _open_paths() -> tuple[str, ...]:
    return (
        reverse("second_factor:setup"),
        reverse("second_factor:verify"),
        reverse("admin:logout"),
        reverse("admin:login"),
        reverse("admin:jsi18n"),
    )


def _is_token_request(request) -> bool:
    """`Authorization: Token …`, the one scheme ApiTokenAuthentication answers for itself. Any
    other header (`Bearer …`, `Basic …`) is ignored by it, and DRF would fall back to the session:
    it must not open the way past the second factor."""
    from .authentication import ApiTokenAuthentication

    scheme = request.headers.get("Authorization", "").split(maxsplit=1)[:1]
    return bool(scheme) and scheme[0].lower() == ApiTokenAuthentication.keyword.lower()


class SecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            expired = self._idle_expired(request)
            if expired:
                return expired
            held = self._held_at_second_factor(request, user)
            if held:
                return held
            return self.get_response(request)
        response = self.get_response(request)
        self._stamp_login(request)
        return response

    def _stamp_login(self, request):
        """A session that has just logged in is idle from the login on, not from its first page:
        logging in and walking away is idleness too. (Token requests carry no session login.)"""
        session = getattr(request, "session", None)
        if settings.SESSION_IDLE_SECONDS and session is not None and session.get(SESSION_KEY):
            moment = int(time.time())
            session.setdefault(SESSION_SEEN, moment)
            session.setdefault(SESSION_STARTED, moment)

    def _idle_expired(self, request):
        """Log out a session untouched for SESSION_IDLE_SECONDS, or older than SESSION_COOKIE_AGE
        (one shift) however busy. The last-seen time is written at most once a minute."""
        idle = settings.SESSION_IDLE_SECONDS
        if not idle:
            return None
        now = int(time.time())
        seen = request.session.get(SESSION_SEEN)
        started = request.session.setdefault(SESSION_STARTED, seen or now)
        if seen is not None and now - seen > idle:
            message = _("You were logged out after %(minutes)d idle minutes.") % {"minutes": idle // 60}
        elif now - started > settings.SESSION_COOKIE_AGE:
            # Every write to the session pushes Django's own expiry on: the shift's end is kept here.
            message = _("Your session has ended after %(hours)d hours. Log in again.") % {
                "hours": settings.SESSION_COOKIE_AGE // 3600
            }
        else:
            if seen is None or now - seen >= 60:
                request.session[SESSION_SEEN] = now
            return None
        logout(request)
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": _("Your session has expired. Log in again.")}, status=401)
        messages.info(request, message)
        return redirect(f"{reverse('admin:login')}?{urlencode({'next': request.get_full_path()})}")

    def _held_at_second_factor(self, request, user):
        if not settings.STAFF_OTP_REQUIRED or not access.needs_second_factor(user):
            return None
        if user.is_verified():
            return None
        path = request.path
        if path.startswith(OPEN_PREFIXES) or path in _open_paths():
            return None
        if path.startswith("/api/"):
            if _is_token_request(request):
                return None  # DRF authenticates the token (or answers 401); the session plays no part
            return JsonResponse({"detail": _("Pass the second factor (one-time code) first.")}, status=403)
        from django_otp import devices_for_user

        target = "second_factor:verify" if any(devices_for_user(user, confirmed=True)) else "second_factor:setup"
        return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")
