"""Fixtures shared by the whole suite. App-specific personas live next to their tests."""

import pytest


@pytest.fixture(autouse=True)
def _media_in_tmp_path(settings, tmp_path):
    """Uploaded files (release attachments, imports) land in a per-test directory, never in media/."""
    settings.MEDIA_ROOT = tmp_path / "media"
