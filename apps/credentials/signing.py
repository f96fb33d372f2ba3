"""The portal's credential signing keys (README "Signed status credentials": keys and rotation).

`settings.CREDENTIAL_SIGNING_KEYS` (from the environment, JSON) is a list of
`{"kid", "alg", "private_key" (PEM), "valid_from", "valid_to" (optional)}`. The newest key in force
signs; every key whose `valid_to` has not passed is published by `GET /api/v1/keys/` (also one
whose `valid_from` is still ahead, so checkpoints hold it before it signs), which is the rotation
overlap: a credential verifies under a key when `valid_from <= iat < valid_to`.

With none configured the portal signs with a development key derived from a constant printed
here, so a first run works without setup; production settings refuse it (config/settings/production.py)."""

import dataclasses
import datetime as dt
import functools
import hashlib
import json
import secrets
import zlib

import base45
import cbor2
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cwt import COSE, COSEKey

from . import verifier as v
from .choices import KeyAlgorithm

DEV_KID = "hk-dev-1"
_DEV_SEED = b"health-kit development credential signing key: never in production"
_DEV_VALID_FROM = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
COSE_ALG = {KeyAlgorithm.ES256: -7, KeyAlgorithm.EDDSA: -8}


@dataclasses.dataclass(frozen=True)
class SigningKey:
    kid: str
    alg: str
    # Out of the repr: a key in a traceback's locals (an error report, a log line with %r) must not
    # carry the private key out of the process.
    private_pem: str = dataclasses.field(repr=False)
    public_pem: str
    valid_from: dt.datetime
    valid_to: dt.datetime | None

    @functools.cached_property
    def cose_key(self):
        return COSEKey.from_pem(self.private_pem.encode(), alg=self.alg, kid=self.kid.encode())

    def in_force(self, t: dt.datetime) -> bool:
        return self.valid_from <= t and (self.valid_to is None or t < self.valid_to)

    def published_entry(self) -> dict:
        return {
            "kid": self.kid,
            "alg": self.alg,
            "public_key": self.public_pem,
            "valid_from": self.valid_from.isoformat(),
            "valid_to": self.valid_to.isoformat() if self.valid_to else None,
        }


def _pem_private(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def public_pem(key) -> str:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def algorithm_of(key) -> str:
    """The COSE algorithm a cryptography key object serves, or ValueError."""
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1":
        return KeyAlgorithm.ES256
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return KeyAlgorithm.EDDSA
    raise ValueError("the key is neither ECDSA P-256 (ES256) nor Ed25519 (EdDSA)")


def public_key_check(pem: str, alg: str) -> str:
    """The normalised PEM of a public key given for `alg`, or ValueError saying what is wrong
    (the trust list's input: a key that cannot verify anything must not be stored)."""
    try:
        key = serialization.load_pem_public_key((pem or "").strip().encode())
    except (ValueError, TypeError) as error:
        raise ValueError("not a PEM public key") from error
    if algorithm_of(key) != alg:
        raise ValueError(f"the key is not a {alg} key")
    return public_pem(key)


def dev_private_key():
    """The development key: a P-256 key derived from a constant, the same on every machine, so
    credentials of a first run verify after a restart. Printed in the source, so never trusted."""
    scalar = int.from_bytes(hashlib.sha256(_DEV_SEED).digest(), "big") % _P256_ORDER or 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


def dev_public_pem() -> str:
    return public_pem(dev_private_key().public_key())


def _moment(value, field: str) -> dt.datetime | None:
    if value in (None, ""):
        return None
    try:
        moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    except ValueError as error:
        raise ValueError(f"{field} is not an ISO 8601 moment: {value!r}") from error
    if not isinstance(moment, dt.datetime) or moment.tzinfo is None:
        raise ValueError(f"{field} must be an ISO 8601 moment with an offset: {value!r}")
    return moment


def key_entry_parse(entry: dict) -> SigningKey:
    """One entry of CREDENTIAL_SIGNING_KEYS, checked (ValueError naming what is wrong)."""
    if not isinstance(entry, dict):
        raise ValueError("each entry of CREDENTIAL_SIGNING_KEYS is an object")
    kid = entry.get("kid")
    if not isinstance(kid, str) or not kid or not kid.isascii() or len(kid) > 64:
        raise ValueError("a key's kid is 1 to 64 ASCII characters")
    try:
        private = serialization.load_pem_private_key(str(entry.get("private_key", "")).encode(), password=None)
    except (ValueError, TypeError) as error:
        raise ValueError(f"key {kid}: private_key is not an unencrypted PEM private key") from error
    alg = algorithm_of(private)
    if entry.get("alg", alg) != alg:
        raise ValueError(f"key {kid}: alg {entry.get('alg')} does not match its private key ({alg})")
    valid_from = _moment(entry.get("valid_from"), f"key {kid}: valid_from")
    if valid_from is None:
        raise ValueError(f"key {kid}: valid_from is required")
    valid_to = _moment(entry.get("valid_to"), f"key {kid}: valid_to")
    if valid_to is not None and valid_to <= valid_from:
        raise ValueError(f"key {kid}: valid_to must come after valid_from")
    return SigningKey(kid, alg, _pem_private(private), public_pem(private.public_key()), valid_from, valid_to)


@functools.cache
def _parsed(serialised: str) -> tuple[SigningKey, ...]:
    entries = json.loads(serialised)
    if not entries:
        dev = dev_private_key()
        return (
            SigningKey(
                DEV_KID, KeyAlgorithm.ES256, _pem_private(dev), public_pem(dev.public_key()), _DEV_VALID_FROM, None
            ),
        )
    if not isinstance(entries, list):
        raise ValueError("CREDENTIAL_SIGNING_KEYS is a JSON list of keys")
    keys = tuple(key_entry_parse(e) for e in entries)
    if len({k.kid for k in keys}) != len(keys):
        raise ValueError("CREDENTIAL_SIGNING_KEYS has two keys of the same kid")
    return keys


def signing_keys(configured) -> tuple[SigningKey, ...]:
    """The keys of a CREDENTIAL_SIGNING_KEYS value (parsed once per value), newest first."""
    keys = _parsed(json.dumps(configured or [], sort_keys=True, default=str))
    return tuple(sorted(keys, key=lambda k: k.valid_from, reverse=True))


def uses_dev_key(configured) -> bool:
    """Whether a CREDENTIAL_SIGNING_KEYS value is (or contains) the development key."""
    dev = dev_public_pem()
    return any(k.kid == DEV_KID or k.public_pem == dev for k in signing_keys(configured))


def key_in_force(configured, t: dt.datetime) -> SigningKey:
    """The newest key in force at `t`: the one that signs."""
    for key in signing_keys(configured):
        if key.in_force(t):
            return key
    raise LookupError("no credential signing key is in force now (CREDENTIAL_SIGNING_KEYS)")


def keys_published(configured, t: dt.datetime) -> list[SigningKey]:
    """The keys a verifier needs at `t`: every key whose `valid_to` has not passed."""
    return [k for k in signing_keys(configured) if k.valid_to is None or t < k.valid_to]


def key_generate(*, alg: str = KeyAlgorithm.ES256, kid: str = "", valid_from: dt.datetime) -> dict:
    """A new key pair as an entry of CREDENTIAL_SIGNING_KEYS (with its public key too, for the
    operators' records and for other regions' trust lists)."""
    private = (
        ec.generate_private_key(ec.SECP256R1()) if alg == KeyAlgorithm.ES256 else ed25519.Ed25519PrivateKey.generate()
    )
    return {
        "kid": kid or f"hk-{valid_from:%Y%m%d}-{secrets.token_hex(3)}",
        "alg": str(alg),
        "valid_from": valid_from.isoformat(),
        "private_key": _pem_private(private),
        "public_key": public_pem(private.public_key()),
    }


def credential_sign(claims: dict, key: SigningKey) -> str:
    """The credential text of a claims map signed with `key`: COSE_Sign1 with the algorithm and
    key id in the protected header, zlib-compressed, Base45, behind the prefix (the EU DCC's
    layering; the verifier undoes it in reverse)."""
    signed = COSE.new().encode_and_sign(
        cbor2.dumps(claims), key.cose_key, protected={v.HEADER_ALG: COSE_ALG[key.alg], v.HEADER_KID: key.kid.encode()}
    )
    return v.PREFIX + base45.b45encode(zlib.compress(signed, 9)).decode("ascii")
