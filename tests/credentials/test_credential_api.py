"""The credentials API (API.md "Credentials"): a person's status issued as a signed credential,
verified online and offline with the published keys; the same look-up rules as the status; the
claims carry nothing of the person but the masked name and ID; `superseded` after a change."""

import datetime as dt

import pytest
import time_machine

from apps.audit.models import AccessLog
from apps.credentials import verifier as v
from apps.credentials.models import IssuedCredential
from apps.credentials.services import issued_credentials_purge
from apps.credentials.signing import DEV_KID
from tests.api.helpers import RISK_COUNTY, at, iso, rid, stay
from tests.casework.test_casework_api import active_popup, release_body

from .helpers import decoded_claims, roundtrip

IDN = rid("11010519900101123")
OLD = rid("11010519500101123")  # born 1950: a proxy look-up is allowed
NAME = "王小明"


def credential(w, idn=IDN, **extra):
    r = w.gate.get("/api/v1/status/credential/", {"id_type": "resident_id", "id_number": idn, **extra})
    assert r.status_code == 200, r.content
    return r.json()


def verify_online(c, text):
    r = c.post("/api/v1/credentials/verify/", {"credential": text}, format="json")
    assert r.status_code == 200, r.content
    return r.json()


@pytest.fixture
def flagged(world):
    """A resident of CA with popup ③ (a stay in a county designated medium)."""
    with time_machine.travel(at(2021, 7, 28, 9), tick=False):
        world.ref = world.person(IDN, name=NAME, community="CA")
        world.feed("stays", stay(IDN, "G1", RISK_COUNTY, iso(2021, 7, 20, 8), iso(2021, 7, 22, 8)))
        world.designate(RISK_COUNTY, "medium", iso(2021, 7, 28, 0))
    return world


def test_it_issues_the_status_as_a_credential_with_its_qr_code(flagged):
    with time_machine.travel(at(2021, 7, 28, 9, 30), tick=False):
        body = credential(flagged)
        status = flagged.status(IDN)
    assert set(body) == {"credential", "svg", "issuer", "kid", "issued_at", "expires_at", "state", "colour"}
    assert body["credential"].startswith("HK1:") and body["svg"].startswith("<svg")
    assert (body["issuer"], body["kid"], body["state"], body["colour"]) == ("110000", DEV_KID, "popup", "none")
    assert body["issued_at"] == iso(2021, 7, 28, 9, 30)
    assert body["expires_at"] == status["valid_until"] == iso(2021, 7, 29)


def test_the_claims_hold_the_masked_name_and_id_and_nothing_else_of_the_person(flagged):
    with time_machine.travel(at(2021, 7, 28, 9, 30), tick=False):
        body = credential(flagged)
    claims = decoded_claims(body["credential"])
    assert set(claims) == {v.ISS, v.IAT, v.EXP, v.CTI, v.STATUS_CLAIM}
    status = claims[v.STATUS_CLAIM]
    assert set(status) == {v.STATE, v.COLOUR, v.POPUPS, v.NAME, v.ID_NUMBER, v.VERSION}
    assert status[v.NAME] == "王**" and status[v.ID_NUMBER] == IDN[:2] + "*" * 14 + IDN[-2:]
    assert status[v.POPUPS] == [3] and status[v.VERSION] >= 1
    assert claims[v.ISS] == "110000" and claims[v.EXP] == int(at(2021, 7, 29).timestamp())
    raw = repr(claims).encode() + body["credential"].encode()
    for secret in (IDN, IDN[2:-2], NAME, NAME[1:], flagged.ref):
        assert secret.encode() not in raw and secret.encode("utf-8") not in repr(claims).encode("utf-8")
    assert len(claims[v.CTI]) == 16


def test_it_verifies_online_and_offline_with_the_published_keys(flagged, client):
    with time_machine.travel(at(2021, 7, 28, 9, 30), tick=False):
        body = credential(flagged)
        online = verify_online(flagged.gate, body["credential"])
        keys = client.get("/api/v1/keys/")
    assert online == {
        "valid": True,
        "reason": None,
        "issuer": "110000",
        "kid": DEV_KID,
        "state": "popup",
        "colour": "none",
        "popups": [3],
        "display_name": "王**",
        "display_id": IDN[:2] + "*" * 14 + IDN[-2:],
        "issued_at": iso(2021, 7, 28, 9, 30),
        "expires_at": iso(2021, 7, 29),
        "superseded": False,
    }
    offline = v.verify(body["credential"], roundtrip(keys.json()), at(2021, 7, 28, 23, 59, 59))
    assert offline.valid and offline.state == "popup" and offline.popups == (3,)
    assert v.verify(body["credential"], roundtrip(keys.json()), at(2021, 7, 29)).reason == v.Reason.EXPIRED


def test_the_verify_endpoint_answers_expired_at_the_expiry_and_not_a_second_before(flagged):
    with time_machine.travel(at(2021, 7, 28, 9, 30), tick=False):
        text = credential(flagged)["credential"]
    with time_machine.travel(at(2021, 7, 28, 23, 59, 59), tick=False):
        assert verify_online(flagged.gate, text)["valid"] is True
    with time_machine.travel(at(2021, 7, 29), tick=False):
        late = verify_online(flagged.gate, text)
    assert late["valid"] is False and late["reason"] == "expired" and late["superseded"] is None


def test_a_release_supersedes_the_credential_issued_before_it(flagged):
    w = flagged
    with time_machine.travel(at(2021, 7, 28, 9, 30), tick=False):
        text = credential(w)["credential"]
        again = credential(w)["credential"]
    with time_machine.travel(at(2021, 7, 28, 10), tick=False):
        popup = active_popup(w.wa, w.ref, 3)
        assert w.wa.post(f"/api/v1/popups/{popup['id']}/release/", release_body(), format="json").status_code == 200
        old = verify_online(w.gate, text)
        fresh = credential(w)
        new = verify_online(w.gate, fresh["credential"])
    assert old["valid"] is True and old["superseded"] is True and old["state"] == "popup"
    assert new["superseded"] is False and new["state"] == "green" and new["popups"] == []
    assert text != again  # each issue its own random cti


def test_new_evidence_supersedes_and_a_recomputation_that_changes_nothing_does_not(world):
    with time_machine.travel(at(2021, 8, 2, 9), tick=False):
        world.person(IDN, name=NAME, community="CA")
        text = credential(world)["credential"]
        # A stay in a low-risk county: recomputed (a new version), the same green.
        world.feed("stays", stay(IDN, "G0", "110108", iso(2021, 8, 1, 8), iso(2021, 8, 1, 18)))
        world.status(IDN)
        assert verify_online(world.gate, text)["superseded"] is False
        world.designate(RISK_COUNTY, "high", iso(2021, 8, 1))
        world.feed("stays", stay(IDN, "G1", RISK_COUNTY, iso(2021, 7, 30, 8), iso(2021, 7, 31, 8)))
        result = verify_online(world.gate, text)
    assert result["valid"] is True and result["state"] == "green" and result["superseded"] is True


def test_the_look_up_rules_of_the_status_hold(world):
    with time_machine.travel(at(2021, 7, 28, 9), tick=False):
        world.person(IDN, name=NAME)
        world.person(OLD, name="李老")
        unknown = world.gate.get(
            "/api/v1/status/credential/", {"id_type": "resident_id", "id_number": rid("11010519800101123")}
        )
        assert unknown.status_code == 404 and IssuedCredential.objects.count() == 0
        refused = world.gate.get(
            "/api/v1/status/credential/", {"id_type": "resident_id", "id_number": IDN, "proxy": "1"}
        )
        assert refused.status_code == 403
        assert credential(world, OLD, proxy="1")["state"] == "green"
        bad = world.gate.get(
            "/api/v1/status/credential/", {"id_type": "resident_id", "id_number": "110105199001011231"}
        )
        assert bad.status_code == 400 and "id_number" in bad.json()
        missing = world.gate.get("/api/v1/status/credential/", {"id_type": "resident_id"})
        assert missing.status_code == 400 and "id_number" in missing.json()
        # Staff look-ups are logged, as for the status.
        before = AccessLog.objects.count()
        r = world.cdc.get("/api/v1/status/credential/", {"id_type": "resident_id", "id_number": IDN, "why": "核查"})
        assert r.status_code == 200 and AccessLog.objects.count() == before + 1
        # The feeds partner has no status scope; the railway verifies but does not issue.
        assert (
            world.feeds.get("/api/v1/status/credential/", {"id_type": "resident_id", "id_number": IDN}).status_code
            == 403
        )
        rail = world.personas.client("rail")
        assert rail.get("/api/v1/status/credential/", {"id_type": "resident_id", "id_number": IDN}).status_code == 403
        assert verify_online(rail, credential(world)["credential"])["valid"] is True
        assert world.feeds.post("/api/v1/credentials/verify/", {"credential": "HK1:"}, format="json").status_code == 403


def test_the_keys_need_no_token_and_may_be_cached(world, client):
    r = client.get("/api/v1/keys/")
    assert r.status_code == 200
    assert "max-age=300" in r["Cache-Control"] and "public" in r["Cache-Control"]
    body = r.json()
    assert body["issuer"] == "110000" and body["trusted"] == []
    assert [k["kid"] for k in body["keys"]] == [DEV_KID]
    assert set(body["keys"][0]) == {"kid", "alg", "public_key", "valid_from", "valid_to"}
    assert body["keys"][0]["public_key"].startswith("-----BEGIN PUBLIC KEY-----")
    assert "PRIVATE" not in r.content.decode()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "credential"),
        ({"credential": ""}, "credential"),
        ({"credential": None}, "credential"),
        ({"credential": 5}, "credential"),
        ({"credential": ["HK1:"]}, "credential"),
        ({"credential": {"a": 1}}, "credential"),
        ({"credential": "HK1:" + "A" * 20_000}, "credential"),
    ],
)
def test_bad_verify_bodies_answer_400_naming_the_field(world, body, field):
    r = world.gate.post("/api/v1/credentials/verify/", body, format="json")
    assert r.status_code == 400 and field in r.json(), r.content


@pytest.mark.parametrize(
    "text",
    [
        "garbage",
        "HK1:",
        "HC1:NCFOXN%TS3DH",
        "HK1:%%%%",
        "HK1:" + "0" * 2000,
        "HK1:6BFOXN*TS0BI$ZD.P9UOL97O4-2HH77HRM3DSPTLRR+%3",
    ],
)
def test_garbage_credentials_answer_malformed_not_an_error(world, text):
    result = verify_online(world.gate, text)
    assert result["valid"] is False and result["reason"] == "malformed" and result["superseded"] is None


def test_a_tampered_credential_is_rejected_online(flagged):
    with time_machine.travel(at(2021, 7, 28, 9, 30), tick=False):
        text = credential(flagged)["credential"]
        truncated = verify_online(flagged.gate, text[:-3])
        swapped = verify_online(flagged.gate, text[:-10] + text[-9] + text[-10] + text[-8:])
    assert truncated["valid"] is False and swapped["valid"] is False
    assert truncated["state"] is None and truncated["display_name"] is None


def test_the_notes_of_issued_credentials_are_purged_after_expiry(flagged):
    with time_machine.travel(at(2021, 7, 28, 9, 30), tick=False):
        credential(flagged)
        credential(flagged)
        assert issued_credentials_purge() == 0
    assert issued_credentials_purge(before=at(2021, 7, 29) - dt.timedelta(seconds=1)) == 0
    assert issued_credentials_purge(before=at(2021, 7, 29)) == 2
    assert IssuedCredential.objects.count() == 0


def test_the_schema_documents_the_three_endpoints(world, client):
    r = client.get("/api/v1/schema/", {"format": "json"})
    assert r.status_code == 200
    paths = r.json()["paths"]
    for path, method in (
        ("/api/v1/status/credential/", "get"),
        ("/api/v1/keys/", "get"),
        ("/api/v1/credentials/verify/", "post"),
    ):
        assert paths[path][method]["description"], path
