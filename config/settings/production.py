"""Production settings: the base settings, with debug off and secure cookies.

Refuses to start with the development secrets from base.py: a portal that holds ID numbers and
phone numbers must never run on keys that are printed in its own source code.
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import DEV_PERSONAL_DATA_KEY, DEV_SECRET_KEY, env

DEBUG = False

if SECRET_KEY == DEV_SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY is the development default: set SECRET_KEY in the environment.")
if PERSONAL_DATA_KEY == DEV_PERSONAL_DATA_KEY or DEV_PERSONAL_DATA_KEY in PERSONAL_DATA_OLD_KEYS:
    raise ImproperlyConfigured(
        "PERSONAL_DATA_KEY (or one of PERSONAL_DATA_OLD_KEYS) is the development default: set a real key."
    )

SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = False
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
