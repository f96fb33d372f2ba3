"""Mutual recognition (互认, SPEC §11): a second key pair standing for Tianjin (120000). Its
credentials verify — online and offline — once Tianjin is on the trust list with a key in force
for their issue time, and say which region issued them; not before the key's dates, not after,
and not when Tianjin is not on the list. The list is kept by policy administrators, audited, with
history; auditors read it; nobody else sees it."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.credentials import verifier as v
from apps.credentials.models import TrustedIssuer, TrustedKey
from apps.credentials.services import trusted_issuer_save, trusted_key_add, trusted_key_end
from tests.api.helpers import at

from .helpers import TIANJIN, region_key, roundtrip, sign

FROM = at(2021, 8, 1)
UNTIL = at(2021, 9, 1)
TJ_KEY, TJ_ENTRY = region_key("tj-2021", FROM - dt.timedelta(days=10))


def tianjin(iat: dt.datetime) -> str:
    return sign(TJ_KEY, iat=iat, exp=iat + dt.timedelta(hours=12), state="yellow", popups=[1])


def verify_online(w, text, t):
    with time_machine.travel(t, tick=False):
        r = w.gate.post("/api/v1/credentials/verify/", {"credential": text}, format="json")
    assert r.status_code == 200, r.content
    return r.json()


@pytest.fixture
def trusted(world):
    admin = world.personas.user("policy_1")
    issuer = trusted_issuer_save(actor=admin, region=TIANJIN, name="天津市", note="京津冀互认")
    trusted_key_add(
        actor=admin,
        issuer=issuer,
        kid="tj-2021",
        alg="ES256",
        public_key=TJ_ENTRY["public_key"],
        valid_from=FROM,
        valid_to=UNTIL,
        reason="天津市卫健委提供",
    )
    return world


def test_another_regions_credential_is_untrusted_until_it_is_on_the_list(world):
    result = verify_online(world, tianjin(at(2021, 8, 10, 9)), at(2021, 8, 10, 10))
    assert result["valid"] is False and result["reason"] == "untrusted_issuer" and result["issuer"] == TIANJIN


def test_a_trusted_regions_credential_verifies_online_and_offline_and_names_its_issuer(trusted, client):
    text = tianjin(at(2021, 8, 10, 9))
    result = verify_online(trusted, text, at(2021, 8, 10, 10))
    assert result["valid"] is True and result["issuer"] == TIANJIN and result["kid"] == "tj-2021"
    assert result["state"] == "yellow" and result["popups"] == [1] and result["superseded"] is None
    with time_machine.travel(at(2021, 8, 10, 10), tick=False):
        keys = roundtrip(client.get("/api/v1/keys/").json())
    assert keys["trusted"] == [
        {
            "issuer": TIANJIN,
            "name": "天津市",
            "keys": [
                {
                    "kid": "tj-2021",
                    "alg": "ES256",
                    "public_key": TJ_ENTRY["public_key"],
                    "valid_from": FROM.isoformat(),
                    "valid_to": UNTIL.isoformat(),
                }
            ],
        }
    ]
    offline = v.verify(text, keys, at(2021, 8, 10, 10))
    assert offline.valid and offline.issuer == TIANJIN


def test_a_trusted_key_verifies_only_credentials_issued_within_its_dates(trusted):
    assert verify_online(trusted, tianjin(FROM), FROM + dt.timedelta(hours=1))["valid"] is True
    before = verify_online(trusted, tianjin(FROM - dt.timedelta(seconds=1)), FROM + dt.timedelta(hours=1))
    assert before["valid"] is False and before["reason"] == "unknown_key"
    late = UNTIL - dt.timedelta(seconds=1)
    assert verify_online(trusted, tianjin(late), late)["valid"] is True
    after = verify_online(trusted, tianjin(UNTIL), UNTIL - dt.timedelta(minutes=1))
    assert after["reason"] == "unknown_key"
    # Once past its end the key is not published at all.
    assert verify_online(trusted, tianjin(late), UNTIL)["reason"] == "unknown_key"


def test_ending_a_key_early_withdraws_it_and_is_audited(trusted):
    key = TrustedKey.objects.get()
    admin = trusted.personas.user("policy_2")
    trusted_key_end(actor=admin, key=key, valid_to=at(2021, 8, 15), reason="天津轮换密钥")
    assert verify_online(trusted, tianjin(at(2021, 8, 15, 9)), at(2021, 8, 15, 10))["reason"] == "unknown_key"
    assert verify_online(trusted, tianjin(at(2021, 8, 14, 9)), at(2021, 8, 14, 10))["valid"] is True
    event = AuditEvent.objects.filter(detail__change="trusted_key.ended").get()
    assert event.actor == admin and event.reason == "天津轮换密钥"
    assert (
        event.detail["valid_to_before"] == UNTIL.isoformat() and event.detail["valid_to"] == at(2021, 8, 15).isoformat()
    )
    assert key.history.count() == 2


def test_the_trust_list_changes_are_audited_with_history(trusted):
    changes = list(
        AuditEvent.objects.filter(detail__has_key="change").order_by("id").values_list("detail__change", flat=True)
    )
    assert changes == ["trusted_issuer.added", "trusted_key.added"]
    assert TrustedIssuer.objects.get().history.count() == 1
    trusted_issuer_save(actor=trusted.personas.user("policy_1"), region=TIANJIN, name="天津")
    assert TrustedIssuer.objects.get().history.count() == 2 and TrustedIssuer.objects.count() == 1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"public_key": "not a key"}, "public_key"),
        ({"alg": "EdDSA"}, "public_key"),  # an ES256 key given as EdDSA
        ({"alg": "RS256"}, "alg"),
        ({"kid": ""}, "kid"),
        ({"kid": "tj-2021"}, "kid"),  # already there
        ({"valid_to": FROM}, "valid_to"),
    ],
)
def test_a_bad_trusted_key_is_refused_naming_the_field(trusted, kwargs, field):
    base = {
        "actor": trusted.personas.user("policy_1"),
        "issuer": TrustedIssuer.objects.get(),
        "kid": "tj-2022",
        "alg": "ES256",
        "public_key": TJ_ENTRY["public_key"],
        "valid_from": FROM,
        "valid_to": None,
    }
    with pytest.raises(ValidationError) as error:
        trusted_key_add(**{**base, **kwargs})
    assert field in error.value.message_dict


@pytest.mark.parametrize(("region", "field"), [("12000", "region"), ("110000", "region"), ("abcdef", "region")])
def test_a_bad_region_is_refused(world, region, field):
    with pytest.raises(ValidationError) as error:
        trusted_issuer_save(actor=world.personas.user("policy_1"), region=region, name="x")
    assert field in error.value.message_dict


def test_policy_administrators_keep_the_list_in_the_admin_and_auditors_read_it(world, client):
    client.force_login(world.personas.user("policy_1"))
    r = client.post(
        reverse("admin:credentials_trustedissuer_add"),
        {"region": "130000", "name": "河北省", "note": "", "keys-TOTAL_FORMS": "0", "keys-INITIAL_FORMS": "0"},
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    hebei = TrustedIssuer.objects.get(region="130000")
    key, entry = region_key("he-1", FROM)
    r = client.post(
        reverse("admin:credentials_trustedkey_add"),
        {
            "issuer": hebei.pk,
            "kid": "he-1",
            "alg": "ES256",
            "public_key": entry["public_key"],
            "valid_from_0": "2021-08-01",
            "valid_from_1": "00:00:00",
        },
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    stored = TrustedKey.objects.get(kid="he-1")
    assert stored.valid_to is None and AuditEvent.objects.filter(detail__change="trusted_key.added").count() == 1
    bad = client.post(
        reverse("admin:credentials_trustedkey_add"),
        {
            "issuer": hebei.pk,
            "kid": "he-2",
            "alg": "ES256",
            "public_key": "junk",
            "valid_from_0": "2021-08-01",
            "valid_from_1": "00:00:00",
        },
    )
    assert bad.status_code == 200 and not TrustedKey.objects.filter(kid="he-2").exists()
    # A stored key: only its end may move.
    change = reverse("admin:credentials_trustedkey_change", args=[stored.pk])
    r = client.post(change, {"valid_to_0": "2021-09-01", "valid_to_1": "00:00:00"})
    assert r.status_code == 302, r.content.decode()[:3000]
    stored.refresh_from_db()
    assert stored.valid_to == at(2021, 9, 1) and stored.public_key == entry["public_key"]
    assert client.get(reverse("admin:credentials_trustedkey_history", args=[stored.pk])).status_code == 200
    assert client.post(reverse("admin:credentials_trustedkey_delete", args=[stored.pk])).status_code == 403

    client.force_login(world.personas.user("auditor_1"))
    assert client.get(reverse("admin:credentials_trustedkey_changelist")).status_code == 200
    assert client.get(reverse("admin:credentials_trustedissuer_add")).status_code == 403
    assert client.post(change, {"valid_to_0": "2021-10-01", "valid_to_1": "00:00:00"}).status_code == 403
    client.force_login(world.personas.user("worker_a"))
    assert client.get(reverse("admin:credentials_trustedkey_changelist")).status_code == 403


def test_a_change_of_the_trust_list_is_in_force_at_once_in_this_process(world):
    text = tianjin(at(2021, 8, 10, 9))
    assert verify_online(world, text, at(2021, 8, 10, 10))["reason"] == "untrusted_issuer"
    admin = world.personas.user("policy_1")
    with time_machine.travel(at(2021, 8, 10, 10, 0, 1), tick=False):
        issuer = trusted_issuer_save(actor=admin, region=TIANJIN, name="天津市")
        trusted_key_add(
            actor=admin, issuer=issuer, kid="tj-2021", alg="ES256", public_key=TJ_ENTRY["public_key"], valid_from=FROM
        )
    assert verify_online(world, text, at(2021, 8, 10, 10, 0, 2))["valid"] is True
