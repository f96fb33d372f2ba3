"""The reference offline verifier (apps/credentials/verifier.py) on its own: no database, no
portal, only a keys document and a clock, as a checkpoint runs it. Every rejection reason at its
edge, tampering anywhere, and garbage of every shape."""

import datetime as dt
import subprocess
import sys
from pathlib import Path

import base45
import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.credentials import verifier as v
from apps.credentials.verifier import verify

from .helpers import TIANJIN, claims, cose, region_key, rewrap, sign

ROOT = Path(__file__).resolve().parents[2]
T0 = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
EXP = T0 + dt.timedelta(hours=8)
KEY, ENTRY = region_key("tj-1", T0 - dt.timedelta(days=30))
OTHER, OTHER_ENTRY = region_key("tj-2", T0 - dt.timedelta(days=30))


def document(*entries, issuer=TIANJIN, trusted=()):
    return {"issuer": issuer, "keys": list(entries), "trusted": list(trusted)}


DOC = document(ENTRY)
GOOD = sign(KEY, iat=T0, exp=EXP, state="popup", popups=[3, 4], version=7)


def test_it_accepts_a_credential_of_its_issuer_and_gives_its_claims():
    result = verify(GOOD, DOC, T0 + dt.timedelta(hours=1))
    assert result.valid and result.reason is None
    assert (result.issuer, result.kid, result.state, result.colour) == (TIANJIN, "tj-1", "popup", "none")
    assert result.popups == (3, 4) and result.version == 7
    assert (result.display_name, result.display_id) == ("张*", "12**************34")
    assert result.issued_at == T0 and result.expires_at == EXP


def test_it_accepts_an_ed25519_credential():
    key, entry = region_key("tj-ed", T0 - dt.timedelta(days=1), alg="EdDSA")
    assert verify(sign(key, iat=T0, exp=EXP), document(entry), T0).valid


def test_it_is_valid_one_second_before_expiry_and_expired_at_it():
    assert verify(GOOD, DOC, EXP - dt.timedelta(seconds=1)).valid
    at_exp = verify(GOOD, DOC, EXP)
    assert not at_exp.valid and at_exp.reason == v.Reason.EXPIRED
    # An expired credential still says what it showed (its signature checked).
    assert at_exp.state == "popup" and at_exp.issuer == TIANJIN


def test_an_issuer_neither_own_nor_trusted_is_untrusted():
    result = verify(GOOD, document(ENTRY, issuer="110000"), T0)
    assert not result.valid and result.reason == v.Reason.UNTRUSTED_ISSUER and result.issuer == TIANJIN


def test_a_trusted_issuer_verifies_under_its_own_keys_only():
    trusted = document(issuer="110000", trusted=[{"issuer": TIANJIN, "keys": [ENTRY]}])
    assert verify(GOOD, trusted, T0).valid
    # The same kid published under another region does not verify Tianjin's credential.
    wrong_issuer = document(ENTRY, issuer="110000", trusted=[{"issuer": TIANJIN, "keys": []}])
    assert verify(GOOD, wrong_issuer, T0).reason == v.Reason.UNKNOWN_KEY


def test_an_unknown_kid_is_an_unknown_key():
    assert verify(GOOD, document(OTHER_ENTRY), T0).reason == v.Reason.UNKNOWN_KEY
    assert verify(GOOD, document(), T0).reason == v.Reason.UNKNOWN_KEY


def test_a_key_verifies_only_what_was_issued_within_its_validity():
    def at(start, end=None):
        entry = {**ENTRY, "valid_from": start.isoformat(), "valid_to": end.isoformat() if end else None}
        return verify(GOOD, document(entry), T0)

    assert at(T0).valid  # valid_from <= iat
    assert at(T0 + dt.timedelta(seconds=1)).reason == v.Reason.UNKNOWN_KEY  # issued before the key
    assert at(T0 - dt.timedelta(days=1), T0 + dt.timedelta(seconds=1)).valid  # iat < valid_to
    assert at(T0 - dt.timedelta(days=1), T0).reason == v.Reason.UNKNOWN_KEY  # issued at its end


def test_a_key_of_another_algorithm_under_the_same_kid_is_no_key():
    assert verify(GOOD, document({**ENTRY, "alg": "EdDSA"}), T0).reason == v.Reason.UNKNOWN_KEY


def test_a_signature_by_another_key_under_the_same_kid_is_a_bad_signature():
    forged = sign(region_key("tj-1", T0 - dt.timedelta(days=1))[0], iat=T0, exp=EXP)
    assert verify(forged, DOC, T0).reason == v.Reason.BAD_SIGNATURE


@pytest.mark.parametrize("index", [0, 10, 31, 63])
def test_a_flipped_byte_of_the_signature_is_a_bad_signature(index):
    parts = cose(GOOD)
    signature = bytearray(parts[3])
    signature[index] ^= 0x01
    parts[3] = bytes(signature)
    assert verify(rewrap(parts), DOC, T0).reason == v.Reason.BAD_SIGNATURE


def test_a_changed_claim_is_a_bad_signature():
    parts = cose(GOOD)
    payload = cbor2.loads(parts[2])
    payload[v.STATUS_CLAIM][v.STATE] = "green"
    payload[v.STATUS_CLAIM][v.POPUPS] = []
    parts[2] = cbor2.dumps(payload)
    assert verify(rewrap(parts), DOC, T0).reason == v.Reason.BAD_SIGNATURE
    payload = cbor2.loads(cose(GOOD)[2])
    payload[v.EXP] += 86400  # a longer life
    parts[2] = cbor2.dumps(payload)
    assert verify(rewrap(parts), DOC, T0).reason == v.Reason.BAD_SIGNATURE


def test_a_flipped_byte_of_the_payload_bytes_is_never_valid():
    parts = cose(GOOD)
    for i in range(len(parts[2])):
        payload = bytearray(parts[2])
        payload[i] ^= 0x01
        tampered = rewrap([parts[0], parts[1], bytes(payload), parts[3]])
        result = verify(tampered, DOC, T0)
        assert not result.valid, i
        assert result.reason in (
            v.Reason.BAD_SIGNATURE,
            v.Reason.MALFORMED,
            v.Reason.UNTRUSTED_ISSUER,
            v.Reason.UNKNOWN_KEY,
        )


def test_every_changed_character_of_the_text_is_rejected():
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
    for i in range(len(v.PREFIX), len(GOOD)):
        replacement = alphabet[(alphabet.index(GOOD[i]) + 1) % len(alphabet)]
        tampered = GOOD[:i] + replacement + GOOD[i + 1 :]
        assert not verify(tampered, DOC, T0).valid, i


def test_a_signed_credential_with_bad_status_claims_is_malformed():
    for change in ({v.STATE: "purple"}, {v.POPUPS: [9]}, {v.NAME: 5}, {v.VERSION: "1"}):
        c = claims(iat=T0, exp=EXP)
        c[v.STATUS_CLAIM].update(change)
        from apps.credentials.signing import credential_sign

        assert verify(credential_sign(c, KEY), DOC, T0).reason == v.Reason.MALFORMED, change


@pytest.mark.parametrize(
    "text",
    [
        "",
        "HK1:",
        "HC1:" + GOOD[4:],  # the EU's prefix, not ours
        GOOD[4:],  # no prefix
        GOOD[:-5],  # truncated
        GOOD[: len(GOOD) // 2],
        GOOD + "00",
        "HK1:" + "A" * (v.MAX_TEXT),  # over the size limit
        "HK1:@@@@",  # not Base45
        "HK1:" + base45.b45encode(b"not zlib").decode(),
        "HK1:" + base45.b45encode(__import__("zlib").compress(b"not cbor \xff")).decode(),
        "HK1:" + base45.b45encode(__import__("zlib").compress(cbor2.dumps([1, 2, 3]))).decode(),
        "HK1:" + base45.b45encode(__import__("zlib").compress(cbor2.dumps(cbor2.CBORTag(98, [])))).decode(),
        "HK1:" + base45.b45encode(__import__("zlib").compress(b"\x00" * 100_000)).decode()[:1500],
    ],
)
def test_garbage_is_malformed(text):
    result = verify(text, DOC, T0)
    assert not result.valid and result.reason == v.Reason.MALFORMED


@pytest.mark.parametrize("value", [None, 5, b"HK1:", ["HK1:"], {"credential": GOOD}])
def test_what_is_not_text_is_malformed(value):
    assert verify(value, DOC, T0).reason == v.Reason.MALFORMED


def test_a_zip_bomb_is_malformed_without_inflating_it():
    bomb = __import__("zlib").compress(b"\x00" * 10_000_000, 9)
    text = "HK1:" + base45.b45encode(bomb).decode()
    assert len(text) < 50_000
    assert verify(text[: v.MAX_TEXT], DOC, T0).reason == v.Reason.MALFORMED


def test_out_of_range_times_are_malformed():
    c = claims(iat=T0, exp=EXP)
    c[v.IAT] = 10**20
    from apps.credentials.signing import credential_sign

    assert verify(credential_sign(c, KEY), DOC, T0).reason == v.Reason.MALFORMED


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_random_text_never_raises_and_never_verifies(text):
    assert not verify("HK1:" + text, DOC, T0).valid
    assert not verify(text, DOC, T0).valid


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_random_compressed_bytes_never_raise(data):
    import zlib

    text = "HK1:" + base45.b45encode(zlib.compress(data)).decode()
    assert not verify(text, DOC, T0).valid


def test_the_verifier_imports_no_django_and_nothing_of_the_portal():
    code = (
        "import sys; import apps.credentials.verifier;"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'rest_framework', 'config')"
        " or (m.startswith('apps.') and m not in ('apps.credentials', 'apps.credentials.verifier')));"
        "print(bad)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
