"""The real-broker fixtures of the fault tests (tests/faults/conftest.py), for the operations tests."""

from tests.faults.conftest import broker, celery_app  # noqa: F401 - fixtures, found by their names
