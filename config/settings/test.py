"""Settings for the test suite: the base settings with a fast password hasher."""

from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The suite moves the clock by days between requests of one session (time-machine); idle expiry
# would log every such test out. tests/accounts/test_sessions.py turns it back on to test it.
SESSION_IDLE_SECONDS = 0

# Tokens are read on every request: the suite revokes a token and calls again within the same
# frozen second. tests/accounts/test_token_cache.py turns the per-process cache on to test its bound.
API_TOKEN_CACHE_SECONDS = 0

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

# A real streaming replica of the test database (.ci/replica; CI sets TEST_REPLICA_URL): the alias
# `replica_test`, a mirror of `default` (the replica carries test_<name> as it carries every
# database of its primary). Nothing is routed to it unless a test puts it in DATABASE_REPLICAS
# (tests/status/test_replicas.py).
TEST_REPLICA_URL = env("TEST_REPLICA_URL", default="")
if TEST_REPLICA_URL:
    DATABASES["replica_test"] = {
        **env.db_url_config(TEST_REPLICA_URL),
        "ATOMIC_REQUESTS": False,
        "CONN_MAX_AGE": 0,
        "TEST": {"MIRROR": "default"},
    }
    # The same replica, down: nothing listens on port 1 (connection refused at once).
    DATABASES["replica_down"] = {**DATABASES["replica_test"], "PORT": "1"}
