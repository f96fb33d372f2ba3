import pytest

from apps.credentials.selectors import keys_document_forget


@pytest.fixture(autouse=True)
def _fresh_keys_document():
    """Each test's keys document from its own database (the per-process copy would outlive the
    rolled-back trust list of the test before)."""
    keys_document_forget()
    yield
    keys_document_forget()
