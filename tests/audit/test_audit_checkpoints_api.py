"""`GET /api/v1/audit/checkpoints/` (API.md, auditors only): the signed checkpoints of the sealed
audit, newest first, each verifiable by an auditor with the public key alone (the message rebuilt
here by hand, as README "Sealed audit" describes it, and checked with `cryptography` only)."""

import base64

import pytest
import time_machine
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from apps.audit import services
from apps.audit.models import AccessLog
from tests.api.helpers import at, client, rid

URL = "/api/v1/audit/checkpoints/"


@pytest.fixture
def w(world):
    with time_machine.travel(at(2021, 7, 28, 9), tick=False):
        world.auditor = world.personas.client("auditor_1")
        world.anon = client("not-a-token")
        world.ref = world.person(rid("11010519900101123"), community="CA")
        world.cdc.get(f"/api/v1/persons/{world.ref}/status/")  # a staff look-up: logged
        assert AccessLog.objects.count() == 1
        assert services.audit_seal(wait=2).checkpoint is not None
    return world


def test_only_auditors_read_the_checkpoints(w):
    with time_machine.travel(at(2021, 7, 28, 10), tick=False):
        got = {name: getattr(w, name).get(URL).status_code for name in ("wa", "cdc", "policy", "feeds", "gate", "anon")}
        assert got == {"wa": 403, "cdc": 403, "policy": 403, "feeds": 403, "gate": 403, "anon": 401}
        assert w.auditor.get(URL).status_code == 200


def test_each_checkpoint_verifies_with_the_public_key_alone(w, settings):
    with time_machine.travel(at(2021, 7, 28, 10), tick=False):
        w.cdc.get(f"/api/v1/persons/{w.ref}/status/")
        services.audit_seal(wait=2)
        answer = w.auditor.get(URL).json()
    assert len(answer) == 2 and answer[0]["size"] > answer[1]["size"] >= 1  # newest first
    seed = base64.b64decode(settings.AUDIT_SIGNING_KEY)
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key()
    for cp in answer:
        assert set(cp) >= {"at", "size", "root", "signature", "kid"}
        assert cp["alg"] == "Ed25519" and cp["at"].endswith("Z") and len(cp["root"]) == 64
        published = Ed25519PublicKey.from_public_bytes(base64.b64decode(cp["public_key"]))
        assert published == public
        message = f"healthkit-audit-checkpoint/v1\n{cp['size']}\n{cp['root']}\n{cp['at']}\n".encode()
        public.verify(base64.b64decode(cp["signature"]), message)  # raises when it does not verify
        changed = f"healthkit-audit-checkpoint/v1\n{cp['size'] + 1}\n{cp['root']}\n{cp['at']}\n".encode()
        with pytest.raises(InvalidSignature):
            public.verify(base64.b64decode(cp["signature"]), changed)


def test_the_list_pages_back_by_size(w):
    with time_machine.travel(at(2021, 7, 28, 10), tick=False):
        for _ in range(3):
            w.cdc.get(f"/api/v1/persons/{w.ref}/status/")
            services.audit_seal(wait=2)
        sizes = [cp["size"] for cp in w.auditor.get(URL).json()]
        assert sizes == sorted(sizes, reverse=True) and len(sizes) == 4
        page = w.auditor.get(URL, {"limit": 2}).json()
        assert [cp["size"] for cp in page] == sizes[:2]
        older = w.auditor.get(URL, {"limit": 2, "before_size": page[-1]["size"]}).json()
        assert [cp["size"] for cp in older] == sizes[2:]
        assert w.auditor.get(URL, {"limit": 0}).status_code == 400
        assert w.auditor.get(URL, {"limit": 1001}).status_code == 400
