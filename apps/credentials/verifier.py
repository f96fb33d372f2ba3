"""The reference offline verifier of signed status credentials (SPEC §11, README "Signed status
credentials").

A checkpoint (a station gate, a hotel desk, another region's portal) runs this one function with
nothing but the public keys document of `GET /api/v1/keys/` and a clock: no portal, no network, no
Django. The portal's own `POST /api/v1/credentials/verify/` calls the same function, so online and
offline verification can never disagree. This module therefore imports only the standard library,
cbor2, base45, cwt (COSE) and cryptography: the import-linter contract `offline-verifier` of
pyproject.toml checks that it imports no Django and no module of the portal.

The format, as the EU Digital COVID Certificate's: `HK1:` + Base45(zlib(COSE_Sign1(CWT claims))).
The checks, in order, each with its own reason: the text decodes into a COSE_Sign1 with an `alg`
and a `kid` in its protected header and a CWT claims map as payload (else `malformed`); its issuer
(`iss`) is the keys document's own region or one on its trust list (`untrusted_issuer`); that
issuer publishes a key of that kid and algorithm whose validity covers the issue time,
`valid_from <= iat < valid_to` (`unknown_key`); the signature checks under it (`bad_signature`);
the status claims are well formed and claim no more than a day's validity (`malformed`); the issue
time is not ahead of the verifier's clock beyond `MAX_CLOCK_SKEW` (`not_yet_valid`); and now is
before the expiry (`expired`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import io
import zlib

import base45
import cbor2
from cwt import COSE, COSEKey

PREFIX = "HK1:"
# Far above a real credential (about 250 characters) and far below what a QR code holds: a
# longer text is refused before any decoding, and the inflated payload is capped the same way
# (a zip bomb cannot make the verifier allocate more than this).
MAX_TEXT = 2048
MAX_PAYLOAD = 2048

# CWT claim keys (RFC 8392) and the private claim holding the status (a map of small keys, as the
# EU DCC's `hcert` claim -260 holds its certificate). -65537 is in the private-use range of the
# CWT claims registry (integers below -65536).
ISS, EXP, IAT, CTI = 1, 4, 6, 7
STATUS_CLAIM = -65537
STATE, COLOUR, POPUPS, NAME, ID_NUMBER, VERSION = 1, 2, 3, 4, 5, 6
# COSE header parameters and algorithms (RFC 9052/9053).
HEADER_ALG, HEADER_KID = 1, 4
ALGORITHMS = {-7: "ES256", -8: "EdDSA"}
COSE_SIGN1_TAG = 18

# A key verifies by the claimed issue time, so that claim must not run ahead of the verifier's
# clock: an issuer signs at its own now, and two clocks agree within minutes (NTP, a phone's
# network time). And the scheme's credential lasts to the day's end (SPEC §11: at most a day after
# issue; 25 hours allows a region whose day has a daylight-saving hour): a longer one is no
# credential of the scheme, whoever signed it (a trusted region's misissue, a leaked key).
MAX_CLOCK_SKEW = dt.timedelta(minutes=5)
MAX_VALIDITY = dt.timedelta(hours=25)

STATES = frozenset({"green", "popup", "yellow", "red"})
COLOURS = frozenset({"green", "yellow", "red", "none"})


class Reason:
    """Why a credential is not valid (API.md "Credentials")."""

    BAD_SIGNATURE = "bad_signature"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    UNKNOWN_KEY = "unknown_key"
    UNTRUSTED_ISSUER = "untrusted_issuer"
    MALFORMED = "malformed"


@dataclasses.dataclass(frozen=True)
class Verification:
    """The verdict on one credential. The claims are filled once the signature has checked (so
    also for an expired credential, which a checkpoint may show as such), never from an
    unverified payload."""

    valid: bool
    reason: str | None = None
    issuer: str | None = None
    kid: str | None = None
    issued_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    state: str | None = None
    colour: str | None = None
    popups: tuple[int, ...] = ()
    display_name: str | None = None
    display_id: str | None = None
    version: int | None = None
    cti: bytes | None = None


class _Malformed(Exception):
    pass


def _decode(credential) -> tuple[bytes, dict, dict]:
    """The raw COSE_Sign1, its protected header and its claims, or `_Malformed`."""
    if not isinstance(credential, str) or len(credential) > MAX_TEXT or not credential.startswith(PREFIX):
        raise _Malformed
    try:
        compressed = base45.b45decode(credential[len(PREFIX) :])
        inflater = zlib.decompressobj()
        raw = inflater.decompress(compressed, MAX_PAYLOAD + 1)
        # Nothing may follow the zlib stream nor the COSE item: a credential has one text, and a
        # text that verifies with bytes appended is a second, unsigned spelling of it.
        if len(raw) > MAX_PAYLOAD or not inflater.eof or inflater.unused_data:
            raise _Malformed
        message = _loads_whole(raw)
        if isinstance(message, cbor2.CBORTag):
            if message.tag != COSE_SIGN1_TAG:
                raise _Malformed
            message = message.value
        if not isinstance(message, list | tuple) or len(message) != 4:
            raise _Malformed
        protected_bytes, unprotected, payload, signature = message
        if not all(isinstance(b, bytes) for b in (protected_bytes, payload, signature)):
            raise _Malformed
        if not isinstance(unprotected, dict):
            raise _Malformed
        protected = cbor2.loads(protected_bytes) if protected_bytes else {}
        claims = cbor2.loads(payload)
    except _Malformed:
        raise
    except Exception as error:  # any decoding failure of untrusted input is "malformed"
        raise _Malformed from error
    if not isinstance(protected, dict) or not isinstance(claims, dict):
        raise _Malformed
    if not isinstance(protected.get(HEADER_ALG), int) or not isinstance(protected.get(HEADER_KID), bytes):
        raise _Malformed
    iss, iat = claims.get(ISS), claims.get(IAT)
    if not isinstance(iss, str) or not _is_epoch(iat):
        raise _Malformed
    return raw, protected, claims


def _loads_whole(data: bytes):
    """One CBOR item that is the whole of `data` (cbor2.loads ignores what follows the item)."""
    stream = io.BytesIO(data)
    item = cbor2.CBORDecoder(stream).decode()
    if stream.tell() != len(data):
        raise _Malformed
    return item


def _is_epoch(value) -> bool:
    """A NumericDate the verifier can turn into a datetime (whole seconds, years 1970-9999)."""
    return type(value) is int and 0 <= value < 253402300800


def _moment(value) -> dt.datetime | None:
    if value in (None, ""):
        return None
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"a key's validity must carry an offset: {value!r}")
    return moment


def _issuer_keys(keys: dict, issuer: str) -> list[dict] | None:
    """The keys the document publishes for `issuer`: its own, or a trusted region's; None when
    the issuer is neither."""
    if keys.get("issuer") == issuer:
        return list(keys.get("keys") or [])
    for entry in keys.get("trusted") or []:
        if entry.get("issuer") == issuer:
            return list(entry.get("keys") or [])
    return None


def _key_for(candidates: list[dict], kid: str, alg: str, iat: int):
    """The published key of this kid and algorithm valid at the issue time, else None."""
    issued = dt.datetime.fromtimestamp(iat, dt.UTC)
    for entry in candidates:
        if entry.get("kid") != kid or entry.get("alg") != alg:
            continue
        try:
            start, end = _moment(entry.get("valid_from")), _moment(entry.get("valid_to"))
            if (start is not None and issued < start) or (end is not None and issued >= end):
                continue
            return _cose_key(entry["public_key"], alg, kid)
        except Exception:  # an unreadable entry of the document is no key
            continue
    return None


@functools.lru_cache(maxsize=256)
def _cose_key(public_key_pem: str, alg: str, kid: str):
    """Parsing a PEM costs more than checking a signature: a checkpoint verifying a queue of
    credentials parses each published key once."""
    return COSEKey.from_pem(public_key_pem.encode(), alg=alg, kid=kid.encode())


def _status(claims: dict) -> dict:
    status = claims.get(STATUS_CLAIM)
    exp, cti = claims.get(EXP), claims.get(CTI)
    if not isinstance(status, dict) or not _is_epoch(exp) or not isinstance(cti, bytes | None):
        raise _Malformed
    state, colour, popups = status.get(STATE), status.get(COLOUR), status.get(POPUPS)
    name, id_number, version = status.get(NAME), status.get(ID_NUMBER), status.get(VERSION)
    if state not in STATES or colour not in COLOURS:
        raise _Malformed
    if not isinstance(popups, list | tuple) or not all(type(n) is int and 1 <= n <= 5 for n in popups):
        raise _Malformed
    if not isinstance(name, str) or not isinstance(id_number, str) or type(version) is not int:
        raise _Malformed
    return {
        "expires_at": dt.datetime.fromtimestamp(exp, dt.UTC),
        "state": state,
        "colour": colour,
        "popups": tuple(popups),
        "display_name": name,
        "display_id": id_number,
        "version": version,
        "cti": cti,
    }


def verify(credential: str, keys: dict, now: dt.datetime) -> Verification:
    """Verify one credential text against a keys document (the JSON of `GET /api/v1/keys/`) at
    `now` (an aware datetime). Never raises on any credential text: every failure is a
    `Verification` with `valid=False` and its reason."""
    try:
        raw, protected, claims = _decode(credential)
    except _Malformed:
        return Verification(valid=False, reason=Reason.MALFORMED)
    issuer, iat = claims[ISS], claims[IAT]
    try:
        kid = protected[HEADER_KID].decode("ascii")
    except UnicodeDecodeError:
        return Verification(valid=False, reason=Reason.MALFORMED, issuer=issuer)
    alg = ALGORITHMS.get(protected[HEADER_ALG])
    candidates = _issuer_keys(keys, issuer)
    if candidates is None:
        return Verification(valid=False, reason=Reason.UNTRUSTED_ISSUER, issuer=issuer, kid=kid)
    key = _key_for(candidates, kid, alg, iat) if alg else None
    if key is None:
        return Verification(valid=False, reason=Reason.UNKNOWN_KEY, issuer=issuer, kid=kid)
    try:
        COSE.new().decode(raw, key)
    except Exception:  # cwt's VerifyError, or a signature of the wrong shape
        return Verification(valid=False, reason=Reason.BAD_SIGNATURE, issuer=issuer, kid=kid)
    try:
        status = _status(claims)
    except _Malformed:
        return Verification(valid=False, reason=Reason.MALFORMED, issuer=issuer, kid=kid)
    issued_at = dt.datetime.fromtimestamp(iat, dt.UTC)
    if status["expires_at"] - issued_at > MAX_VALIDITY:
        return Verification(valid=False, reason=Reason.MALFORMED, issuer=issuer, kid=kid)
    if issued_at > now + MAX_CLOCK_SKEW:
        reason = Reason.NOT_YET_VALID
    elif now >= status["expires_at"]:
        reason = Reason.EXPIRED
    else:
        reason = None
    return Verification(
        valid=reason is None,
        reason=reason,
        issuer=issuer,
        kid=kid,
        issued_at=issued_at,
        **status,
    )
