"""Production refuses the development credential key (config/settings/production.py), as it
refuses the other development defaults; a key of the deployment passes."""

import datetime as dt
import json

from apps.credentials.signing import DEV_KID, dev_private_key, key_generate, public_pem
from tests.core.test_production_settings import check


def test_production_refuses_no_credential_key():
    result = check({"CREDENTIAL_SIGNING_KEYS": None})
    assert result.returncode != 0
    assert "Production settings refused" in result.stderr and "CREDENTIAL_SIGNING_KEYS" in result.stderr


def test_production_refuses_the_development_key_under_any_kid():
    from cryptography.hazmat.primitives import serialization

    pem = dev_private_key().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    entry = {
        "kid": "looks-real",
        "alg": "ES256",
        "private_key": pem.decode(),
        "valid_from": "2026-01-01T00:00:00+00:00",
    }
    result = check({"CREDENTIAL_SIGNING_KEYS": json.dumps([entry])})
    assert result.returncode != 0 and "development key" in result.stderr
    other = key_generate(kid=DEV_KID, valid_from=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert check({"CREDENTIAL_SIGNING_KEYS": json.dumps([other])}).returncode != 0
    assert public_pem(dev_private_key().public_key()).startswith("-----BEGIN PUBLIC KEY-----")


def test_production_refuses_an_unreadable_key_list():
    result = check({"CREDENTIAL_SIGNING_KEYS": json.dumps([{"kid": "x", "private_key": "nope"}])})
    assert result.returncode != 0 and "CREDENTIAL_SIGNING_KEYS" in result.stderr


def test_production_starts_with_a_key_of_the_deployment():
    entry = key_generate(kid="bj-2026", valid_from=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    result = check({"CREDENTIAL_SIGNING_KEYS": json.dumps([entry])})
    assert result.returncode == 0, result.stderr
