"""Production settings: the base settings, with debug off, secure cookies and HSTS, the second
factor required, expiring API tokens, and compressed, hashed static files served by whitenoise.

Refuses to start with anything of the development defaults: the secret keys printed in base.py, no
ALLOWED_HOSTS, the SQLite file, no Celery broker, or no Redis cache for the rate limits. A portal that
holds a city's ID numbers and movements must never run on keys that are printed in its own source code.
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import DEV_AUDIT_SIGNING_KEY, DEV_PERSONAL_DATA_KEY, DEV_SECRET_KEY, env


def refuse(message: str) -> None:
    raise ImproperlyConfigured(f"Production settings refused: {message}")


DEBUG = False
if env.bool("DEBUG", default=False):
    refuse("DEBUG is on. Unset DEBUG.")
if SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 50:
    refuse("SECRET_KEY is the development default or shorter than 50 characters: set SECRET_KEY.")
if PERSONAL_DATA_KEY == DEV_PERSONAL_DATA_KEY or DEV_PERSONAL_DATA_KEY in PERSONAL_DATA_OLD_KEYS:
    refuse("PERSONAL_DATA_KEY (or one of PERSONAL_DATA_OLD_KEYS) is the development default: set a real key.")
if len(PERSONAL_DATA_KEY) < 32:
    refuse("PERSONAL_DATA_KEY is shorter than 32 characters.")
if not env("AUDIT_SIGNING_KEY", default=""):
    refuse("AUDIT_SIGNING_KEY is not set: the audit's checkpoints must be signed with a key of this deployment.")
try:
    from apps.audit.signing import private_key_load, public_key_load, public_raw

    _audit_public = public_raw(private_key_load(AUDIT_SIGNING_KEY).public_key())
    for _old in AUDIT_OLD_PUBLIC_KEYS:
        public_key_load(_old)
except ValueError as error:
    refuse(f"AUDIT_SIGNING_KEY or AUDIT_OLD_PUBLIC_KEYS: {error}")
if _audit_public == public_raw(private_key_load(DEV_AUDIT_SIGNING_KEY).public_key()):
    refuse("AUDIT_SIGNING_KEY is the development default: set a key of this deployment.")
try:
    from apps.credentials.signing import signing_keys, uses_dev_key

    signing_keys(CREDENTIAL_SIGNING_KEYS)
except ValueError as error:
    refuse(f"CREDENTIAL_SIGNING_KEYS: {error}")
if uses_dev_key(CREDENTIAL_SIGNING_KEYS):
    refuse(
        "CREDENTIAL_SIGNING_KEYS is empty or holds the development key: status credentials must be signed "
        "with keys of this deployment (manage.py credential_keygen)."
    )
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
if not ALLOWED_HOSTS or "*" in ALLOWED_HOSTS:
    refuse("set ALLOWED_HOSTS to the portal's host names (no '*').")
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    refuse("DATABASE_URL must point to PostgreSQL (the embedded SQLite file is for a first run only).")
if not CELERY_BROKER_URL:
    refuse("CELERY_BROKER_URL is not set: production runs a real Celery worker, never tasks in-process.")
if not REDIS_CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    refuse(
        "REDIS_CACHE_URL is not a Redis URL: the rate limits (429) count in Redis so that every web process "
        "shares one budget; in each process's memory a caller would get one budget per process."
    )
try:
    from apps.accounts.rates import parse_rates

    for _name, _spec in {**API_THROTTLE_RATES, **LOOKUP_LIMITS}.items():
        parse_rates(_spec)
except ValueError as error:
    refuse(f"API_THROTTLE_RATES or LOOKUP_LIMITS: {error}")

# HTTPS only, behind a proxy that sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# The balancer's probes may reach gunicorn over plain HTTP: answered, not redirected (apps.core.health).
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
# One JSON object a line for the log collector, unless LOG_FORMAT says otherwise.
if env("LOG_FORMAT", default="json") == "json":
    LOG_FORMAT = "json"
    LOGGING["handlers"]["console"]["formatter"] = "json"
    LOGGING["handlers"]["django.server"]["formatter"] = "json"
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[f"https://{host}" for host in ALLOWED_HOSTS])
# The portal's own name for its cookies: nothing else on the host can read or shadow them.
SESSION_COOKIE_NAME = "__Host-portal-session"
CSRF_COOKIE_NAME = "__Host-portal-csrftoken"

# Staff of roles that see unmasked personal data log in with a second factor; tokens expire.
STAFF_OTP_REQUIRED = env.bool("STAFF_OTP_REQUIRED", default=True)
API_TOKEN_DAYS = env.int("API_TOKEN_DAYS", default=90)
PARTNER_TOKEN_DAYS = env.int("PARTNER_TOKEN_DAYS", default=365)

# The protections above can only be weakened on purpose: each one named in INSECURE_OVERRIDES
# (comma-separated), never by a missing or mistyped variable.
INSECURE_OVERRIDES = env.list("INSECURE_OVERRIDES", default=[])
WEAKENED = {
    "AXES_ENABLED": not AXES_ENABLED,
    "TRUSTED_PROXY_COUNT": TRUSTED_PROXY_COUNT < 1,
    "SESSION_IDLE_SECONDS": not 0 < SESSION_IDLE_SECONDS <= SESSION_COOKIE_AGE,
    "SESSION_COOKIE_AGE": SESSION_COOKIE_AGE > 12 * 3600,
    "STAFF_OTP_REQUIRED": not STAFF_OTP_REQUIRED,
    "API_TOKEN_DAYS": not 0 < API_TOKEN_DAYS <= 366,
    "PARTNER_TOKEN_DAYS": not 0 < PARTNER_TOKEN_DAYS <= 731,
    "SECURE_SSL_REDIRECT": not SECURE_SSL_REDIRECT,
    "SECURE_HSTS_SECONDS": SECURE_HSTS_SECONDS < 60 * 60 * 24 * 365,
}
for name, weak in WEAKENED.items():
    if weak and name not in INSECURE_OVERRIDES:
        refuse(
            f"{name} weakens a protection (see SECURITY.md); set it as documented, or name it in "
            "INSECURE_OVERRIDES to accept that on purpose."
        )

# Static files: collected, hashed and compressed, served by whitenoise from the app servers.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Errors go to the log, never to a page; personal data is never logged (only ids and refs).
LOGGING["root"]["level"] = env("LOG_LEVEL", default="WARNING")  # noqa: F405
