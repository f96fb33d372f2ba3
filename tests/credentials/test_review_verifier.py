"""A security tester's review of the offline verifier and the signing keys (issue 16): the attacks
a checkpoint meets — claimed times, algorithm and key-id confusion, an issuer claiming another's
name, decoding bombs — and private material kept out of every text a key object turns into.

The first tests are the holes found (they failed before the fix); the rest pin down what already
held, so a change to the verifier cannot quietly reopen it."""

import datetime as dt
import time
import zlib

import base45
import cbor2

from apps.credentials import verifier as v
from apps.credentials.signing import signing_keys
from apps.credentials.verifier import verify

from .helpers import TIANJIN, claims, cose, region_key, rewrap, sign

OURS = "110000"
T0 = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
EXP = T0 + dt.timedelta(hours=8)
KEY, ENTRY = region_key("k-1", T0 - dt.timedelta(days=30))
TJ_KEY, TJ_ENTRY = region_key("tj-1", T0 - dt.timedelta(days=30))


def document(*entries, issuer=OURS, trusted=()):
    return {"issuer": issuer, "keys": list(entries), "trusted": list(trusted)}


DOC = document(ENTRY, trusted=[{"issuer": TIANJIN, "name": "天津", "keys": [TJ_ENTRY]}])


# --- holes found --------------------------------------------------------------------------------------


def test_a_credential_issued_in_the_future_is_not_yet_valid_beyond_the_clock_skew():
    """The key's validity is judged by the claimed issue time: a credential dated ahead of the
    checkpoint's clock was not issued by the scheme (its issuer signs at its own `now`)."""
    ahead = sign(KEY, iss=OURS, iat=T0 + dt.timedelta(days=300), exp=T0 + dt.timedelta(days=300, hours=8))
    result = verify(ahead, DOC, T0)
    assert not result.valid and result.reason == v.Reason.NOT_YET_VALID
    # Within the allowed skew of two clocks it is valid; one second past it, not.
    edge = T0 + v.MAX_CLOCK_SKEW
    assert verify(sign(KEY, iss=OURS, iat=edge, exp=EXP), DOC, T0).valid
    late = sign(KEY, iss=OURS, iat=edge + dt.timedelta(seconds=1), exp=EXP)
    assert verify(late, DOC, T0).reason == v.Reason.NOT_YET_VALID


def test_a_credential_claiming_more_than_a_day_of_validity_is_refused():
    """SPEC §11: the credential expires at the day's end (at most a day after issue). One signed
    for a month (by a trusted region's misissuance or a leaked key) must not live a month."""
    month = sign(KEY, iss=OURS, iat=T0, exp=T0 + dt.timedelta(days=30))
    result = verify(month, DOC, T0 + dt.timedelta(hours=1))
    assert not result.valid and result.reason == v.Reason.MALFORMED
    assert verify(sign(KEY, iss=OURS, iat=T0, exp=T0 + v.MAX_VALIDITY), DOC, T0).valid
    longer = sign(KEY, iss=OURS, iat=T0, exp=T0 + v.MAX_VALIDITY + dt.timedelta(seconds=1))
    assert verify(longer, DOC, T0).reason == v.Reason.MALFORMED


def test_bytes_after_the_zlib_stream_or_after_the_cose_item_are_malformed():
    """Appended bytes changed nothing signed, so the text verified: a second, unsigned spelling
    of the credential (and the cause of test_verifier's flaky `GOOD + "00"` case, valid whenever
    the text's length made "00" decode to one byte past the zlib stream)."""
    raw = zlib.decompress(base45.b45decode(GOOD[len(v.PREFIX) :]))
    after_zlib = v.PREFIX + base45.b45encode(zlib.compress(raw) + b"\x00").decode()
    after_cose = v.PREFIX + base45.b45encode(zlib.compress(raw + b"\x00")).decode()
    assert verify(v.PREFIX + base45.b45encode(zlib.compress(raw)).decode(), DOC, T0).valid
    assert verify(after_zlib, DOC, T0).reason == v.Reason.MALFORMED
    assert verify(after_cose, DOC, T0).reason == v.Reason.MALFORMED


def test_a_signing_key_never_shows_its_private_key_in_its_repr():
    """A key object in a traceback's locals (an error report, a debugger, a log line with %r)
    must not carry the private key out of the process."""
    key = signing_keys([])[0]
    assert "PRIVATE" not in repr(key) and key.private_pem.startswith("-----BEGIN PRIVATE KEY")
    assert "PRIVATE" not in repr(KEY) and "PRIVATE" not in str(KEY)


# --- what held ------------------------------------------------------------------------------------------


def _header(credential: str, protected: dict, signature: bytes | None = None) -> str:
    parts = list(cose(credential))
    parts[0] = cbor2.dumps(protected)
    if signature is not None:
        parts[3] = signature
    return rewrap(parts)


GOOD = sign(KEY, iss=OURS, iat=T0, exp=EXP)


def test_alg_none_and_unknown_algorithms_find_no_key():
    for alg in (0, -35, -257, 5):  # none (unassigned 0), ES384, RS256, HMAC 256/256
        result = verify(_header(GOOD, {1: alg, 4: b"k-1"}, signature=b""), DOC, T0)
        assert not result.valid and result.reason == v.Reason.UNKNOWN_KEY


def test_a_header_saying_eddsa_over_an_es256_key_finds_no_key():
    ed_key, _entry = region_key("k-1", T0 - dt.timedelta(days=30), alg="EdDSA")
    forged = sign(ed_key, iss=OURS, iat=T0, exp=EXP)  # EdDSA under our ES256 key's kid
    assert verify(forged, DOC, T0).reason == v.Reason.UNKNOWN_KEY
    assert verify(_header(GOOD, {1: -8, 4: b"k-1"}), DOC, T0).reason == v.Reason.UNKNOWN_KEY


def test_a_published_entry_whose_key_is_not_of_its_algorithm_verifies_nothing():
    wrong = dict(ENTRY, alg="EdDSA")
    ed_key, _entry = region_key("k-1", T0 - dt.timedelta(days=30), alg="EdDSA")
    for credential in (GOOD, sign(ed_key, iss=OURS, iat=T0, exp=EXP)):
        assert not verify(credential, document(wrong), T0).valid


def test_a_trusted_regions_valid_signature_claiming_our_issuer_is_refused():
    forged = sign(TJ_KEY, iss=OURS, iat=T0, exp=EXP)
    assert verify(forged, DOC, T0).reason == v.Reason.UNKNOWN_KEY
    # Even when its kid is also one of ours: our key is the one tried, and the signature fails.
    tj_same_kid, tj_entry = region_key("k-1", T0 - dt.timedelta(days=30))
    doc = document(ENTRY, trusted=[{"issuer": TIANJIN, "name": "天津", "keys": [tj_entry]}])
    assert verify(sign(tj_same_kid, iss=OURS, iat=T0, exp=EXP), doc, T0).reason == v.Reason.BAD_SIGNATURE
    # And its own credentials still verify, named as its own.
    own = verify(sign(tj_same_kid, iat=T0, exp=EXP), doc, T0)
    assert own.valid and own.issuer == TIANJIN


def test_an_unprotected_header_changes_nothing():
    parts = list(cose(GOOD))
    parts[1] = {1: -8, 4: b"tj-1"}  # another algorithm and another key id, unsigned
    result = verify(rewrap(parts), DOC, T0)
    assert result.valid and result.kid == "k-1"


def test_cbor_bombs_in_the_claims_are_malformed_at_once():
    bombs = [
        cbor2.CBORTag(5, [2**62, 3]),  # a bigfloat of exponent 2^62
        cbor2.CBORTag(4, [-(2**62), 3]),  # a decimal fraction
        cbor2.CBORTag(2, b"\xff" * 1000),  # a bignum
    ]
    for bomb in bombs:
        payload = cbor2.dumps({**claims(iss=OURS, iat=T0, exp=EXP), 99: bomb})
        parts = list(cose(GOOD))
        parts[2] = payload
        started = time.process_time()
        result = verify(rewrap(parts), DOC, T0)
        assert not result.valid and time.process_time() - started < 1.0
    nested = v.PREFIX + base45.b45encode(zlib.compress(b"\x81" * 1500 + b"\x00")).decode()
    assert verify(nested, DOC, T0).reason == v.Reason.MALFORMED
    declared = rewrap([b"\x5b\x00\x00\x00\x10\x00\x00\x00\x00", {}, b"", b""])  # a 64 GiB byte string
    assert verify(declared, DOC, T0).reason == v.Reason.MALFORMED
