"""Settings for the test suite: the base settings with a fast password hasher."""

from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The suite moves the clock by days between requests of one session (time-machine); idle expiry
# would log every such test out. tests/accounts/test_sessions.py turns it back on to test it.
SESSION_IDLE_SECONDS = 0
