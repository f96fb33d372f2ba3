"""Key rotation with an overlap (README "Signed status credentials"): the newest key in force
signs; the previous one stays published until its valid_to, and verifies what it signed while it
was in force; a key is never good for a credential issued outside its validity."""

import datetime as dt
import json

import pytest
import time_machine

from apps.credentials import verifier as v
from apps.credentials.signing import key_generate, key_in_force, keys_published, signing_keys
from tests.api.helpers import at, rid

IDN = rid("11010519900101123")
ROTATION = at(2021, 8, 1, 12)  # the new key signs from here (noon)
OVERLAP_END = at(2021, 8, 2, 12)  # the old key's valid_to: a day later


@pytest.fixture
def two_keys(settings):
    old = key_generate(kid="bj-old", valid_from=at(2021, 1, 1))
    old["valid_to"] = OVERLAP_END.isoformat()
    new = key_generate(kid="bj-new", valid_from=ROTATION)
    settings.CREDENTIAL_SIGNING_KEYS = json.loads(json.dumps([old, new]))
    return settings.CREDENTIAL_SIGNING_KEYS


def issue(w):
    r = w.gate.get("/api/v1/status/credential/", {"id_type": "resident_id", "id_number": IDN})
    assert r.status_code == 200, r.content
    return r.json()


def test_the_newest_key_in_force_signs(two_keys):
    assert key_in_force(two_keys, ROTATION - dt.timedelta(seconds=1)).kid == "bj-old"
    assert key_in_force(two_keys, ROTATION).kid == "bj-new"
    assert [k.kid for k in keys_published(two_keys, ROTATION - dt.timedelta(days=1))] == ["bj-new", "bj-old"]
    assert [k.kid for k in keys_published(two_keys, OVERLAP_END)] == ["bj-new"]


def test_a_credential_of_the_previous_key_verifies_through_the_overlap_and_not_after(world, two_keys, client):
    with time_machine.travel(ROTATION - dt.timedelta(hours=1), tick=False):
        world.person(IDN)
        before = issue(world)
    assert before["kid"] == "bj-old"
    with time_machine.travel(ROTATION + dt.timedelta(hours=1), tick=False):
        after = issue(world)
        keys = client.get("/api/v1/keys/").json()
        assert after["kid"] == "bj-new"
        assert {k["kid"]: k["valid_to"] for k in keys["keys"]} == {"bj-new": None, "bj-old": OVERLAP_END.isoformat()}
        # Both verify, online and offline (the old one until its own expiry at midnight).
        for text in (before["credential"], after["credential"]):
            assert world.gate.post("/api/v1/credentials/verify/", {"credential": text}, format="json").json()["valid"]
            assert v.verify(text, keys, ROTATION + dt.timedelta(hours=1)).valid
    with time_machine.travel(OVERLAP_END, tick=False):
        keys = client.get("/api/v1/keys/").json()
    assert [k["kid"] for k in keys["keys"]] == ["bj-new"]
    # Verified after the old key's end: it is no longer published, so nothing it signed verifies.
    assert v.verify(before["credential"], keys, ROTATION - dt.timedelta(minutes=30)).reason == v.Reason.UNKNOWN_KEY


def test_a_key_used_outside_its_validity_fails(two_keys):
    old = next(k for k in signing_keys(two_keys) if k.kid == "bj-old")
    new = next(k for k in signing_keys(two_keys) if k.kid == "bj-new")
    keys = {"issuer": "110000", "keys": [old.published_entry(), new.published_entry()], "trusted": []}
    from .helpers import sign

    late = sign(old, iss="110000", iat=OVERLAP_END, exp=OVERLAP_END + dt.timedelta(hours=1))
    assert v.verify(late, keys, OVERLAP_END).reason == v.Reason.UNKNOWN_KEY
    early = sign(new, iss="110000", iat=ROTATION - dt.timedelta(seconds=1), exp=ROTATION + dt.timedelta(hours=1))
    assert v.verify(early, keys, ROTATION).reason == v.Reason.UNKNOWN_KEY
    assert v.verify(sign(new, iss="110000", iat=ROTATION, exp=ROTATION + dt.timedelta(hours=1)), keys, ROTATION).valid


def test_no_key_in_force_refuses_to_sign(settings):
    future = key_generate(kid="later", valid_from=at(2030, 1, 1))
    with pytest.raises(LookupError):
        key_in_force([future], at(2021, 8, 1))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kid": ""}, "kid"),
        ({"private_key": "nope"}, "private_key"),
        ({"alg": "EdDSA"}, "alg"),
        ({"valid_from": None}, "valid_from"),
        ({"valid_from": "2021-08-01T00:00:00"}, "offset"),
        ({"valid_to": "2020-01-01T00:00:00+08:00"}, "valid_to"),
    ],
)
def test_a_bad_key_entry_is_refused_naming_what_is_wrong(change, message):
    entry = {**key_generate(kid="k", valid_from=at(2021, 1, 1)), **change}
    with pytest.raises(ValueError, match=message):
        signing_keys([entry])


def test_keygen_prints_an_entry_the_settings_accept():
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command(
        "credential_keygen",
        "--alg",
        "EdDSA",
        "--kid",
        "bj-2027",
        "--valid-from",
        "2027-01-01T00:00:00+08:00",
        stdout=out,
    )
    entry = json.loads(out.getvalue())
    assert entry["kid"] == "bj-2027" and entry["alg"] == "EdDSA" and "PRIVATE KEY" in entry["private_key"]
    (key,) = signing_keys([entry])
    assert key.public_pem == entry["public_key"] and key.valid_from == at(2027, 1, 1)


def test_with_no_key_in_force_the_credential_answers_503_and_the_status_still_works(world, settings):
    settings.CREDENTIAL_SIGNING_KEYS = [key_generate(kid="later", valid_from=at(2030, 1, 1))]
    with time_machine.travel(at(2021, 8, 1, 9), tick=False):
        world.person(IDN)
        query = {"id_type": "resident_id", "id_number": IDN}
        r = world.gate.get("/api/v1/status/credential/", query, HTTP_ACCEPT_LANGUAGE="en")
        assert r.status_code == 503 and "signing key" in r.json()["detail"]
        r = world.gate.get("/api/v1/status/credential/", query)  # Chinese by default
        assert r.status_code == 503 and "签名密钥" in r.json()["detail"]
        assert world.status(IDN)["state"] == "green"
