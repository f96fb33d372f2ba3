"""Fuzz the published OpenAPI schema (the hardening issue: "schemathesis against the published
OpenAPI schema, in CI with a bounded number of examples: no 5xx, every response matching the
schema").

Every operation of `/api/v1/schema/` is called in-process through the WSGI app with data that
schemathesis generates from the schema, valid and invalid, once as each identity that matters for
it: no token, a partner with every scope, a CDC officer (who may do most things) and the role the
operation is for. At the fuzzer's choice, generated ids, persons, areas, organisations and times
are swapped for ones that exist or make sense in the seeded world (tests/fuzz/conftest.py), and a
feed gets records shaped like its own, so requests get past 400 and 404 into the services; or for
nasty values that services must not trust (a NUL or half a surrogate pair in text, a number too
big for a column, a date in year 9999, a body nested past the JSON depth limit, ...). Every
response must be no server error and must match the schema: a documented status code, content
type and body.

Bounded and deterministic: `FUZZ_MAX_EXAMPLES` examples per operation (default 30), Hypothesis
derandomised, no example database.
"""

import datetime as dt
import os

import schemathesis
import time_machine
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from apps.evidence.choices import AssociationKind, HealthEventKind, LabResultValue, OrderKind, Precision, StaySource
from config.wsgi import application
from tests.api.helpers import BORDER_COUNTY, CASE_COUNTY, CHAOYANG, RISK_CITY, RISK_COUNTY, rid

from .conftest import FUZZ_AT

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "30"))

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

# The schema as partners get it: served by the app itself.
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)

# Who calls an operation besides the anonymous caller, the partner and the CDC officer: the roles
# it is for, by path prefix.
ROLES_BY_PREFIX = {
    "/api/v1/hotel-stays/": ("hotel", "officer"),
    "/api/v1/appeals/": ("hotline", "worker"),
    "/api/v1/audit/": ("auditor",),
    "/api/v1/risk-designations/": ("policy",),
    "/api/v1/border-port-counties/": ("policy",),
    "/api/v1/policy/": ("policy",),
    "/api/v1/work-queue/": ("worker",),
    "/api/v1/popups/": ("worker",),
    "/api/v1/orders/": ("worker",),
    "/api/v1/community-registrations/": ("worker",),
    "/api/v1/persons/": ("worker",),
}

# Counties, a city, a province, an unknown code, a code with a NUL.
AREA_CODES = [CHAOYANG, RISK_COUNTY, CASE_COUNTY, BORDER_COUNTY, RISK_CITY, "110000", "999999", "32\x001003"]
AREA_KEYS = ("area_code", "from_area_code")
ORG_CODES = ["CA", "CB", "CDC", "H1", "HL12345", "TB105", "NOPE"]
ORG_KEYS = ("community", "routed_to")
TIME_KEYS = ("effective_from", "effective_to", "changed_since")
# Times around the fuzz: weeks before, just before and after, days ahead.
MOMENTS = [(FUZZ_AT + dt.timedelta(hours=h)).isoformat() for h in (-24 * 20, -24 * 3, -1, 0, 1, 24 * 2)]
# Persons not in the world: a new resident, a bad check digit, a passport.
STRANGERS = [("resident_id", rid("11010519880808123")), ("resident_id", "110105198808081230"), ("passport", "E1234567")]
# Strings that break services that trust them, for ids, query parameters and record fields: a NUL
# (PostgreSQL refuses it in any text), blanks, digits of another script, a number too big for a
# column, something that looks like SQL.
NASTY = ["a\x00b", "", " ", "-1", "9" * 25, "١٢٣", "1.0", "%", "' OR '1'='1"]
# And in a JSON body, where they can be written (`\udfff`): half of a surrogate pair, which no
# column can hold and UTF-8 cannot encode (issue 12).
NASTY_TEXT = [*NASTY, "\udfff", "a\ud800b", "\ud83d"]
# Numbers just past an integer column, past 64 bits, and a float where an integer goes.
NASTY_NUMBERS = [2**31 - 1, 2**31, -(2**31) - 1, 2**63, 10**30, 1.5]
# Dates no service should take: years 0001 and 9999, the day before 2000, and tomorrow's birth.
NASTY_DATES = ["0001-01-01", "9999-12-31", "1999-12-31", (FUZZ_AT + dt.timedelta(days=1)).date().isoformat()]

_moment = st.sampled_from(MOMENTS)
_text = st.text(max_size=8)
# The fields of each feed's records (API.md "Feeds"): (required, optional) strategies, with values
# that may or may not pass. The person fields are added by `feed_records`.
RECORD_FIELDS = {
    "stays": (
        {
            "source": st.sampled_from(StaySource.values),
            "area_code": st.sampled_from(AREA_CODES),
            "precision": st.sampled_from(Precision.values),
            "arrived_at": _moment,
        },
        {"departed_at": st.none() | _moment, "refunded": st.booleans(), "phone": st.sampled_from(["13800000000", "1"])},
    ),
    "lab-results": (
        {"sampled_at": _moment, "result": st.sampled_from(LabResultValue.values)},
        {"reported_at": st.none() | _moment, "institution": _text},
    ),
    "health-events": (
        {"kind": st.sampled_from(HealthEventKind.values), "occurred_at": _moment},
        {"detail": st.sampled_from(["antipyretic", "fever", "vitamins", ""]) | _text},
    ),
    "inbound-arrivals": (
        {"entered_at": _moment},
        {"port": st.sampled_from(["PEK", "PKX", ""]), "quarantine_completed_at": st.none() | _moment},
    ),
    "observation-orders": (
        {"kind": st.sampled_from(OrderKind.values), "starts_at": _moment},
        {"ends_at": st.none() | _moment, "reason": _text},
    ),
    "associations": (
        {"kind": st.sampled_from(AssociationKind.values), "observed_at": _moment},
        {"detail": _text},
    ),
    "local-cases": (
        {
            "area_code": st.sampled_from(AREA_CODES),
            "reported_on": _moment.map(lambda m: m[:10]) | st.sampled_from(NASTY_DATES),
        },
        {"count": st.integers(min_value=-1, max_value=10**6) | st.sampled_from(NASTY_NUMBERS)},
    ),
}
WITHOUT_PERSON = ("local-cases",)


def identities(path: str) -> list[str]:
    extra = next((roles for prefix, roles in ROLES_BY_PREFIX.items() if path.startswith(prefix)), ())
    return ["anonymous", "partner", "cdc", *extra]


def feed_records(feed: str, world) -> st.SearchStrategy:
    required, optional = RECORD_FIELDS[feed]
    # A few external ids, so that records repeat (duplicates) and change (updates).
    record = st.fixed_dictionaries(
        {"external_id": st.sampled_from(["r1", "r2", "r3", *NASTY_TEXT]), **required}, optional=optional
    )
    if feed not in WITHOUT_PERSON:
        person = st.sampled_from(world.persons + STRANGERS)
        record = st.tuples(record, st.none() | person).map(
            lambda r: {**r[0], "id_type": r[1][0], "id_number": r[1][1]} if r[1] else r[0]
        )
    return st.lists(record, max_size=4)


def realistic(case, data, world) -> None:
    """Swap generated values for ones that exist, make sense or are nasty, where the fuzzer
    chooses to (about half the time for each value)."""

    def maybe(current, choices):
        return data.draw(st.sampled_from(choices) | st.just(current))

    def rarely(current, choices):
        # One value in eight: a body with a bad value answers 400 before any service runs, and
        # every string and number of a body is a chance for one.
        return data.draw(st.sampled_from(choices)) if data.draw(st.integers(0, 7)) == 0 else current

    place = st.fixed_dictionaries(
        {"area_code": st.sampled_from(AREA_CODES), "arrived_at": _moment}, optional={"departed_at": st.none() | _moment}
    )

    def walk(node, texts=NASTY):
        if isinstance(node, list):
            for item in node:
                walk(item, texts)
        if not isinstance(node, dict):
            return
        for key, value in list(node.items()):
            if key == "id_number":
                node["id_type"], node["id_number"] = maybe((node.get("id_type"), value), world.persons + STRANGERS)
            elif key == "person" and isinstance(value, str):
                node[key] = maybe(value, world.ids["person"])
            elif key in AREA_KEYS:
                node[key] = maybe(value, AREA_CODES)
            elif key in ORG_KEYS:
                node[key] = maybe(value, ORG_CODES)
            elif key.endswith("_at") or key in TIME_KEYS:
                node[key] = maybe(value, MOMENTS)
            elif key == "places" and isinstance(value, list):
                node[key] = data.draw(st.lists(place, min_size=1, max_size=3) | st.just(value))
            elif isinstance(value, bool):
                # The checklists of releases and decisions: all true is what gets through.
                node[key] = maybe(value, [True])
            elif isinstance(value, int | float):
                node[key] = rarely(value, NASTY_NUMBERS)
            elif isinstance(value, str) and key.endswith(("_on", "_date")):
                node[key] = rarely(value, NASTY_DATES)
            elif isinstance(value, str):
                node[key] = rarely(value, texts)
            else:
                walk(value, texts)

    path = case.path_parameters or {}
    for name, value in list(path.items()):
        # Never blank: `/persons//status/` is another URL, not another ref.
        known = world.ids.get(name) or (list(RECORD_FIELDS) if name == "feed" else [])
        path[name] = maybe(value, known + [s for s in NASTY if s.strip()])
    if isinstance(case.query, dict):
        for name, value in list(case.query.items()):
            if isinstance(value, str):
                case.query[name] = maybe(value, NASTY)
        walk(case.query)
    if path.get("feed") in RECORD_FIELDS and case.media_type == "application/json" and data.draw(st.booleans()):
        case.body = {"records": data.draw(feed_records(path["feed"], world))}
    else:
        # A lone surrogate can be written in JSON only (`\udfff`), not in a form or a query string.
        walk(case.body, NASTY_TEXT if case.media_type == "application/json" else NASTY)
    if (
        case.media_type == "application/json"
        and isinstance(case.body, dict | list)
        and data.draw(st.integers(0, 9)) == 0
    ):
        # Now and then the body nested past API_JSON_MAX_DEPTH (400 naming the limit).
        levels = data.draw(st.sampled_from([33, 100, 400]))
        nested = case.body
        for _ in range(levels):
            nested = {"a": nested}
        case.body = nested


# No shrinking: the examples of an operation share its database state, so a shrunk example would
# replay in another world; a failure reports the request as a curl command instead. The world is
# a module fixture (`function_scoped_fixture` is about `db`, rolled back per operation, not per
# example, as intended).
@schema.parametrize()
@schema.given(data=st.data())
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
def test_the_api_keeps_its_published_schema(case, data, fuzz_world, db, wsgi_keeps_connection):
    realistic(case, data, fuzz_world)
    with time_machine.travel(FUZZ_AT, tick=True):
        for identity in identities(case.path):
            case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
            headers = {} if identity == "anonymous" else {"Authorization": f"Token {fuzz_world.tokens[identity]}"}
            case.call_and_validate(headers=headers, checks=CHECKS)
