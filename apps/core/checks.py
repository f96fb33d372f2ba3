"""System checks in place of the ones BrowserMiddleware silences (config/settings/base.py): the
admin's (admin.E408-E410), django-axes' (axes.W002) and Django's CSRF warning (security.W003) look
for their middleware in MIDDLEWARE itself, where BrowserMiddleware holds them instead. This check
says the same, of the list BrowserMiddleware runs."""

from django.conf import settings
from django.core import checks

BROWSER = "apps.core.middleware.BrowserMiddleware"
REQUIRED = (
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "axes.middleware.AxesMiddleware",
)


@checks.register(checks.Tags.security)
def browser_middleware_check(app_configs=None, **kwargs) -> list:
    middleware = list(settings.MIDDLEWARE)
    browser = list(getattr(settings, "BROWSER_MIDDLEWARE", ()))
    errors = []
    if BROWSER not in middleware:
        # Without the wrapper the silenced checks' middleware must be in MIDDLEWARE itself.
        missing = [path for path in REQUIRED if path not in middleware]
    else:
        missing = [path for path in REQUIRED if path not in browser]
    if missing:
        errors.append(
            checks.Error(
                "Middleware the admin, CSRF protection and login lock-out need is missing: " + ", ".join(missing),
                hint="List them in BROWSER_MIDDLEWARE (run by apps.core.middleware.BrowserMiddleware) or MIDDLEWARE.",
                id="core.E001",
            )
        )
    order = [path for path in browser if path in REQUIRED]
    if order and order[-1] != "axes.middleware.AxesMiddleware":
        errors.append(checks.Error("django-axes' middleware must come last in BROWSER_MIDDLEWARE.", id="core.E002"))
    return errors
