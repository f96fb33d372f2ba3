"""Settings for the test suite: the base settings with a fast password hasher."""

from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The suite moves the clock by days between requests of one session (time-machine); idle expiry
# would log every such test out. tests/accounts/test_sessions.py turns it back on to test it.
SESSION_IDLE_SECONDS = 0

# Rate limits (apps.accounts.throttling) stay on, far above what any test sends; the counters live
# in this process's memory, emptied before every test (tests/conftest.py). tests/accounts/
# test_throttling.py sets small rates, and the base defaults, to test them.
API_THROTTLE_RATES = {name: "1000000/m" for name in API_THROTTLE_RATES}  # noqa: F405
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "healthkit-tests"}}

# The suite runs as the migration owner, as `migrate` does (README: Database roles): pytest-django
# creates, migrates and empties (TRUNCATE) the test database through `default`, so `default` is
# DATABASE_OWNER_URL's role on DATABASE_URL's database. DATABASE_APP_URL keeps the application
# role's URL for the tests that connect as it (tests/core/test_append_only_roles.py).
DATABASE_APP_URL = ""
if "owner" in DATABASES:
    DATABASE_APP_URL = env("DATABASE_URL")
    _owner = DATABASES.pop("owner")
    _owner["NAME"] = DATABASES["default"]["NAME"]
    DATABASES["default"] = _owner
