"""Helpers for the credential tests: another region's key pair (120000 天津), claims and
credentials made with it, and decoding a credential's claims to inspect them."""

import datetime as dt
import json
import zlib

import base45
import cbor2

from apps.credentials import verifier as v
from apps.credentials.signing import SigningKey, credential_sign, key_entry_parse, key_generate

TIANJIN = "120000"
UTC = dt.UTC


def region_key(kid: str, valid_from: dt.datetime, alg: str = "ES256", valid_to: dt.datetime | None = None):
    """A fresh key pair as another region holds it: the parsed signing key and its entry."""
    entry = key_generate(alg=alg, kid=kid, valid_from=valid_from)
    if valid_to is not None:
        entry["valid_to"] = valid_to.isoformat()
    return key_entry_parse(entry), entry


def claims(*, iss=TIANJIN, iat: dt.datetime, exp: dt.datetime, state="green", popups=(), version=1) -> dict:
    colour = {"green": "green", "popup": "none", "yellow": "yellow", "red": "red"}[state]
    return {
        v.ISS: iss,
        v.IAT: int(iat.timestamp()),
        v.EXP: int(exp.timestamp()),
        v.CTI: b"0123456789abcdef",
        v.STATUS_CLAIM: {
            v.STATE: state,
            v.COLOUR: colour,
            v.POPUPS: list(popups),
            v.NAME: "张*",
            v.ID_NUMBER: "12**************34",
            v.VERSION: version,
        },
    }


def sign(key: SigningKey, **kwargs) -> str:
    return credential_sign(claims(**kwargs), key)


def cose(credential: str):
    """The COSE_Sign1 array of a credential (protected, unprotected, payload, signature)."""
    return cbor2.loads(zlib.decompress(base45.b45decode(credential[len(v.PREFIX) :]))).value


def rewrap(parts) -> str:
    return v.PREFIX + base45.b45encode(zlib.compress(cbor2.dumps(cbor2.CBORTag(18, list(parts))))).decode()


def decoded_claims(credential: str) -> dict:
    return cbor2.loads(cose(credential)[2])


def entry_of(key: SigningKey) -> dict:
    return key.published_entry()


def roundtrip(document: dict) -> dict:
    """The keys document as a checkpoint holds it: JSON, as fetched."""
    return json.loads(json.dumps(document))
