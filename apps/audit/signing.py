"""Signing the audit's checkpoints (Ed25519, the `cryptography` package), verifiable with the public
key alone.

**The signed message** of a checkpoint is four lines of ASCII, each ending in a newline:

    healthkit-audit-checkpoint/v1
    <size: the number of leaves, decimal>
    <root: the RFC 6962 tree hash of those leaves, 64 lowercase hex digits>
    <at: when it was signed, UTC, YYYY-MM-DDTHH:MM:SS.ffffffZ>

`signature` is the base64 (standard alphabet, padded) of the 64-byte Ed25519 signature of those
bytes; `kid` the first 16 hex digits of SHA-256 of the 32-byte raw public key. An auditor
rebuilds the message from the fields of `GET /api/v1/audit/checkpoints/` and checks it with the
published public key (README: Sealed audit), with nothing else of the portal.

**The keys** come from the settings (the environment): `AUDIT_SIGNING_KEY`, the private key, as
PEM (PKCS#8, `-----BEGIN PRIVATE KEY-----`) or as the base64 of its 32-byte raw seed; and
`AUDIT_OLD_PUBLIC_KEYS`, the public keys of retired signing keys (PEM or base64 of the 32 raw
bytes), so that checkpoints signed before a rotation still verify. The development default is
printed in config/settings/base.py; the production settings refuse it.

Nothing here imports models: the production settings use `private_key_load` to check the key.
"""

import base64
import binascii
import datetime as dt
import hashlib
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALG = "Ed25519"
MESSAGE_HEADER = "healthkit-audit-checkpoint/v1"
KID_HEX_DIGITS = 16


class SigningKeyError(ValueError):
    """A key in the settings that is neither PEM nor the base64 of 32 raw bytes."""


def _raw(value: str) -> bytes | None:
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == 32 else None


def private_key_load(value: str) -> Ed25519PrivateKey:
    value = (value or "").strip().replace("\\n", "\n")  # a PEM in one line of an env file
    if value.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_private_key(value.encode(), password=None)
        except ValueError as error:
            raise SigningKeyError(f"not a PEM private key: {error}") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise SigningKeyError("the PEM key is not an Ed25519 key")
        return key
    raw = _raw(value)
    if raw is None:
        raise SigningKeyError("neither PEM nor the base64 of a 32-byte Ed25519 seed")
    return Ed25519PrivateKey.from_private_bytes(raw)


def public_key_load(value: str) -> Ed25519PublicKey:
    value = (value or "").strip().replace("\\n", "\n")
    if value.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(value.encode())
        except ValueError as error:
            raise SigningKeyError(f"not a PEM public key: {error}") from None
        if not isinstance(key, Ed25519PublicKey):
            raise SigningKeyError("the PEM key is not an Ed25519 key")
        return key
    raw = _raw(value)
    if raw is None:
        raise SigningKeyError("neither PEM nor the base64 of a 32-byte Ed25519 public key")
    return Ed25519PublicKey.from_public_bytes(raw)


def public_raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_b64(key: Ed25519PublicKey) -> str:
    return base64.b64encode(public_raw(key)).decode()


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def key_id(key: Ed25519PublicKey) -> str:
    return hashlib.sha256(public_raw(key)).hexdigest()[:KID_HEX_DIGITS]


def at_text(at: dt.datetime) -> str:
    """The checkpoint's time as signed (and as the API gives it)."""
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def checkpoint_message(*, size: int, root: str, at: str) -> bytes:
    return f"{MESSAGE_HEADER}\n{int(size)}\n{root}\n{at}\n".encode("ascii")


def checkpoint_sign(key: Ed25519PrivateKey, *, size: int, root: str, at: str) -> str:
    return base64.b64encode(key.sign(checkpoint_message(size=size, root=root, at=at))).decode()


def checkpoint_signature_valid(key: Ed25519PublicKey, *, size: int, root: str, at: str, signature: str) -> bool:
    try:
        key.verify(base64.b64decode(signature, validate=True), checkpoint_message(size=size, root=root, at=at))
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


# --- the keys of the settings ----------------------------------------------------------------------


@lru_cache(maxsize=4)
def _signing_key(value: str) -> Ed25519PrivateKey:
    return private_key_load(value)


def signing_key() -> Ed25519PrivateKey:
    from django.conf import settings

    return _signing_key(settings.AUDIT_SIGNING_KEY)


def verification_keys() -> dict[str, Ed25519PublicKey]:
    """Every public key a checkpoint may have been signed with, by kid: the current signing key's
    and the retired ones (`AUDIT_OLD_PUBLIC_KEYS`)."""
    from django.conf import settings

    keys = [signing_key().public_key()]
    keys += [public_key_load(value) for value in getattr(settings, "AUDIT_OLD_PUBLIC_KEYS", [])]
    return {key_id(key): key for key in keys}
