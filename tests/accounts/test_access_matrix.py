"""The access matrix of the staff API (SPEC §7, API.md): every role and partner scope against
every casework endpoint, inside and outside the jurisdiction. A role that may not act gets 403
(before anything about the person is revealed), a person outside the jurisdiction 404, the
entitled callers 2xx (or 409 once a first one has acted). Refusals are tried first and never
change anything."""

import pytest
import time_machine

from apps.audit.models import AuditEvent
from apps.casework.models import CommunityRegistration
from apps.evidence.models import ObservationOrder
from apps.status.models import Popup, Release
from tests.api.helpers import RISK_COUNTY, at, client, iso, rid, stay

IDN = rid("11010519900101123")
CHECKED = {"itinerary_verified": True, "nat_negative": True, "commitment_signed": True}

# Every caller of the matrix, by attribute of the world: staff of each role (worker_a's community
# is the person's, worker_b's is not), the three partner scopes, and a bad token.
CALLERS = ["wa", "wb", "cdc", "hotel", "tourism", "hotline", "policy", "auditor", "feeds", "gate", "rail", "anon"]
REFUSED = (401, 403, 404)


@pytest.fixture
def w(world):
    with time_machine.travel(at(2021, 7, 28, 9), tick=False):
        world.tourism = world.personas.client("officer_1")
        world.hotline = world.personas.client("op_1")
        world.auditor = world.personas.client("auditor_1")
        world.rail = world.personas.client("rail")
        world.anon = client("not-a-token")
        world.ref = world.person(IDN, community="CA")
        world.feed("stays", stay(IDN, "G1", RISK_COUNTY, iso(2021, 7, 20, 8), iso(2021, 7, 22, 8)))
        world.designate(RISK_COUNTY, "medium", iso(2021, 7, 28, 0))
        world.status(IDN)
    return world


def expect(w, call, expected: dict[str, int]):
    """Call as every caller (403 unless `expected` says otherwise; 401 for the bad token), the
    refused ones first, and compare every status code at once."""
    want = {name: expected.get(name, 403) for name in CALLERS}
    want["anon"] = 401
    order = sorted(CALLERS, key=lambda name: want[name] not in REFUSED)
    got = {name: call(getattr(w, name)).status_code for name in order}
    assert got == want


def test_release_a_popup(w):
    with time_machine.travel(at(2021, 7, 28, 10), tick=False):
        popup = Popup.objects.get(number=3, ended_at__isnull=True)
        body = {"reason": "核实无误", **CHECKED}
        call = lambda c: c.post(f"/api/v1/popups/{popup.pk}/release/", body, format="json")  # noqa: E731
        expect(w, call, {"wa": 200, "wb": 404, "cdc": 409})
    assert Release.objects.count() == 1 and AuditEvent.objects.filter(kind="popup.released").count() == 1


def test_start_a_home_order(w):
    with time_machine.travel(at(2021, 7, 28, 10), tick=False):
        body = {"person": w.ref, "kind": "home", "reason": "居家观察"}
        expect(w, lambda c: c.post("/api/v1/orders/", body, format="json"), {"wa": 201, "wb": 404, "cdc": 201})
    assert ObservationOrder.objects.filter(kind="home").count() == 2


def test_start_a_centralised_order(w):
    with time_machine.travel(at(2021, 7, 28, 10), tick=False):
        body = {"person": w.ref, "kind": "centralized", "reason": "密接"}
        # Community workers may start home observation only: 403 for centralised, in or out of
        # their jurisdiction (role first, so a refusal never tells whose the person is).
        expect(w, lambda c: c.post("/api/v1/orders/", body, format="json"), {"cdc": 201})


def test_end_an_order_started_by_the_community(w):
    with time_machine.travel(at(2021, 7, 28, 10), tick=False):
        r = w.wa.post("/api/v1/orders/", {"person": w.ref, "kind": "home", "reason": "居家"}, format="json")
        order = r.json()["id"]
        call = lambda c: c.post(f"/api/v1/orders/{order}/end/", {"reason": "解除"}, format="json")  # noqa: E731
        expect(w, call, {"wa": 200, "wb": 404, "cdc": 409})


def test_registrations_listed_and_decided_by_their_community(w):
    with time_machine.travel(at(2021, 7, 28, 10), tick=False):
        body = {
            "id_type": "resident_id",
            "id_number": rid("32100319850101002"),
            "community": "CB",
            "arriving_at": iso(2021, 7, 30, 18),
        }
        expect(
            w,
            lambda c: c.post("/api/v1/community-registrations/", body, format="json"),
            {"gate": 201},
        )
        registration = CommunityRegistration.objects.get()
        expect(w, lambda c: c.get("/api/v1/community-registrations/"), {"wa": 200, "wb": 200, "cdc": 200})
        decision = {"decision": "no_isolation", "note": "低风险，无需隔离"}
        url = f"/api/v1/community-registrations/{registration.pk}/decide/"
        expect(w, lambda c: c.post(url, decision, format="json"), {"wa": 404, "wb": 200, "cdc": 409})


def test_the_work_queue(w):
    with time_machine.travel(at(2021, 7, 28, 10), tick=False):
        expect(w, lambda c: c.get("/api/v1/work-queue/"), {"wa": 200, "wb": 200, "cdc": 200})
        assert w.wa.get("/api/v1/work-queue/").json()["counts"]["popup"] == 1
        assert w.wb.get("/api/v1/work-queue/").json()["counts"]["popup"] == 0


def test_the_audit_of_a_person(w):
    with time_machine.travel(at(2021, 7, 28, 10), tick=False):
        expect(w, lambda c: c.get(f"/api/v1/audit/?person={w.ref}"), {"auditor": 200})


def test_a_persons_status_and_popups(w):
    with time_machine.travel(at(2021, 7, 28, 10), tick=False):
        # Staff see the persons of their jurisdiction; hotel, tourism and hotline staff see no one
        # here (no guest, no appeal), so 404; the status scope sees everyone; policy and audit
        # staff see no persons (404); feeds and restrictions partners lack the scope (403).
        seen = {"wa": 200, "cdc": 200, "gate": 200}
        hidden = {name: 404 for name in ("wb", "hotel", "tourism", "hotline", "policy", "auditor")}
        expect(w, lambda c: c.get(f"/api/v1/persons/{w.ref}/status/"), seen | hidden)
        expect(w, lambda c: c.get(f"/api/v1/persons/{w.ref}/popups/"), seen | hidden)


def test_publishing_designations_and_policy(w):
    with time_machine.travel(at(2021, 7, 28, 10), tick=False):
        body = {"area_code": RISK_COUNTY, "level": "low", "effective_from": iso(2021, 7, 29)}
        expect(w, lambda c: c.post("/api/v1/risk-designations/", body, format="json"), {"policy": 201})
