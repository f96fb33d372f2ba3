"""Protection of personal data at rest.

Two keys are derived (HKDF-SHA256) from the one PERSONAL_DATA_KEY setting:
- a keyed hash (HMAC-SHA256) used for exact look-ups (an ID number or phone number is found by its
  hash, never stored in clear), and
- a Fernet key (AES-128-CBC + HMAC, from `cryptography`) for the value itself, readable only by code
  paths serving roles entitled to see it. PERSONAL_DATA_OLD_KEYS lets old ciphertexts be read during
  a key rotation (MultiFernet).
"""

import base64
import functools
import hashlib
import hmac

from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"healthkit", info=purpose).derive(secret.encode())


@functools.cache
def _hmac_key(secret: str) -> bytes:
    return _derive(secret, b"lookup-hmac")


@functools.cache
def _fernet(secret: str, old: tuple[str, ...]) -> MultiFernet:
    keys = [secret, *old]
    return MultiFernet([Fernet(base64.urlsafe_b64encode(_derive(k, b"field-encryption"))) for k in keys])


def lookup_hash(value: str) -> str:
    """Keyed hash of a normalised value, hex-encoded; stable for as long as the key is."""
    return hmac.new(_hmac_key(settings.PERSONAL_DATA_KEY), value.encode(), hashlib.sha256).hexdigest()


def encrypt(value: str) -> str:
    return _fernet(settings.PERSONAL_DATA_KEY, tuple(settings.PERSONAL_DATA_OLD_KEYS)).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    return _fernet(settings.PERSONAL_DATA_KEY, tuple(settings.PERSONAL_DATA_OLD_KEYS)).decrypt(token.encode()).decode()
