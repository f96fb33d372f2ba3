"""The seeded world the API fuzzer works in: a persona of every role (tests/personas.py) and a
partner with every scope, each with a token, a few persons with popups, an order, an appeal, a
registration and a hotel stay, built once per module inside a transaction that is rolled back
afterwards (each test's own changes roll back to it)."""

from dataclasses import dataclass, field

import pytest
import time_machine
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction

from tests.api.helpers import BORDER_COUNTY, RISK_COUNTY, at, client, iso, rid, stay
from tests.personas import Personas

# The instant the world is built at; the fuzz runs an hour later, with the clock ticking.
BUILT_AT = at(2021, 8, 16, 9)
FUZZ_AT = at(2021, 8, 16, 10)

RESIDENT = rid("11010519900101123")  # community CA, popup ③ and ⑤
ELDER = rid("11010519500101002")  # community CA, 71: proxy look-ups allowed
CHILD = rid("11010520150101002")  # community CA, 6: proxy look-ups allowed
TRAVELLER = rid("32100319850101002")  # no community, popup ③, an appeal
GUEST = rid("11010819800101002")  # a hotel guest


@dataclass
class FuzzWorld:
    """Tokens by persona and the ids that exist, by the name of the parameter or field they fill."""

    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, list[str]] = field(default_factory=dict)
    persons: list[tuple[str, str]] = field(default_factory=list)  # (id_type, id_number)


def _ok(response, *codes):
    assert response.status_code in codes, (response.status_code, response.content)
    return response.json()


def _build() -> FuzzWorld:
    w = FuzzWorld()
    cast = Personas()
    w.tokens["partner"] = cast.token("all-scopes")
    for name, persona in (
        ("cdc", "cdc_1"),
        ("worker", "worker_a"),
        ("hotel", "hotel_1"),
        ("officer", "officer_1"),
        ("hotline", "op_1"),
        ("policy", "policy_1"),
        ("auditor", "auditor_1"),
    ):
        w.tokens[name] = cast.token(persona)
    cast.build("CB")
    partner, cdc, hotel, hotline, policy = (
        client(w.tokens[k]) for k in ("partner", "cdc", "hotel", "hotline", "policy")
    )

    refs = []
    for idn, name, community in (
        (RESIDENT, "王小明", "CA"),
        (ELDER, "李老", "CA"),
        (CHILD, "张小", "CA"),
        (TRAVELLER, "欧阳娜娜", None),
    ):
        body = {"id_type": "resident_id", "id_number": idn, "name": name, "phones": []}
        if community:
            body["community"] = community
        refs.append(_ok(partner.post("/api/v1/persons/", body, format="json"), 200, 201)["ref"])
        w.persons.append(("resident_id", idn))
    _ok(
        partner.post(
            "/api/v1/feeds/stays/",
            {
                "records": [
                    stay(RESIDENT, "G1", RISK_COUNTY, iso(2021, 8, 10, 8), iso(2021, 8, 11, 8)),
                    stay(TRAVELLER, "G2", RISK_COUNTY, iso(2021, 8, 10, 8), iso(2021, 8, 11, 8)),
                    stay(RESIDENT, "G3", BORDER_COUNTY, iso(2021, 8, 12, 8), iso(2021, 8, 13, 8)),
                ]
            },
            format="json",
        ),
        200,
    )
    _ok(
        policy.post(
            "/api/v1/risk-designations/",
            {"area_code": RISK_COUNTY, "level": "medium", "effective_from": iso(2021, 8, 15, 0)},
            format="json",
        ),
        201,
    )
    for idn in (RESIDENT, TRAVELLER):
        _ok(partner.get("/api/v1/status/", {"id_type": "resident_id", "id_number": idn}), 200)
    popups = _ok(cdc.get(f"/api/v1/persons/{refs[0]}/popups/"), 200)
    order = _ok(
        cdc.post("/api/v1/orders/", {"person": refs[1], "kind": "home", "reason": "密接"}, format="json"),
        201,
    )
    appeal = _ok(
        hotline.post(
            "/api/v1/appeals/",
            {
                "person": {"id_type": "resident_id", "id_number": TRAVELLER},
                "channel": "12345",
                "category": "wrongly_flagged",
                "description": "来电人称未去过中高风险地区",
                "caller_phone": "13812345678",
            },
            format="json",
        ),
        201,
    )
    registration = _ok(
        partner.post(
            "/api/v1/community-registrations/",
            {
                "id_type": "resident_id",
                "id_number": TRAVELLER,
                "community": "CA",
                "arriving_at": iso(2021, 8, 17, 12),
                "from_area_code": RISK_COUNTY,
            },
            format="json",
        ),
        201,
    )
    hotel_stay = _ok(
        hotel.post(
            "/api/v1/hotel-stays/",
            {
                "person": {"id_type": "resident_id", "id_number": GUEST, "name": "赵客"},
                "nat": {"sampled_at": iso(2021, 8, 15, 9), "result": "negative"},
            },
            format="json",
        ),
        201,
    )
    w.persons.append(("resident_id", GUEST))
    refs.append(hotel_stay["person"])
    w.ids = {
        "ref": refs,
        "person": refs,
        "popup_id": [p["id"] for p in popups],
        "order_id": [order["id"]],
        "appeal_id": [appeal["id"]],
        "registration_id": [registration["id"]],
        "hotel_stay_id": [hotel_stay["id"]],
    }
    return w


@pytest.fixture
def wsgi_keeps_connection():
    """Requests through the WSGI app (not Django's test client) would close the database connection
    at their end, and with it the test's transaction (PostgreSQL). Django's test client does the
    same as this: no closing of old connections around a request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def fuzz_world(django_db_setup, django_db_blocker):
    """The world, built once for the module in an outer transaction; the `db` fixture of each
    test nests a savepoint inside it, so tests see the world and never each other's changes."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            with time_machine.travel(BUILT_AT, tick=False):
                world = _build()
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    yield world
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)
