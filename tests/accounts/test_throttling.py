"""Rate limits (SPEC §7, API.md; apps.accounts.throttling): enumeration by a partner token and by
every staff role gets 429 with Retry-After once past its rate, each caller has its own budget, staff
requests that test an ID number have a stricter one, the admin forms' look-up limiter locks a user
out and says until when, and on Redis a request costs one cache round trip."""

import datetime as dt
import logging

import pytest
import time_machine
from django.urls import resolve
from drf_spectacular.generators import SchemaGenerator

from apps.accounts import throttling
from apps.accounts.models import User
from apps.accounts.rates import Rate, parse_rates
from apps.accounts.throttling import IDENTITY_ROUTES, lookup_check
from apps.core.api import exception_handler
from apps.core.errors import DomainError, TooManyLookups
from config.settings import base
from tests.api.helpers import at, client, rid
from tests.faults.helpers import BROKER, REQUIRED

T0 = at(2021, 7, 28, 10, 0, 0)
ROLES = (
    "community_worker",
    "hotel_staff",
    "tourism_officer",
    "hotline_operator",
    "cdc_officer",
    "policy_admin",
    "auditor",
)


def unknown_ids(count: int, start: int = 0) -> list[str]:
    """Valid resident IDs nobody holds: what an enumeration sends."""
    return [rid(f"11010519800101{n:03d}") for n in range(start, start + count)]


def lookup(api, idn):
    return api.get("/api/v1/status/", {"id_type": "resident_id", "id_number": idn})


def rates(settings, **overrides):
    """Every budget generous except the ones named (dotted names: `identity__hotel_staff`)."""
    settings.API_THROTTLE_RATES = {
        **{name: "100000/m" for name in base.API_THROTTLE_RATES},
        **{name.replace("__", "."): spec for name, spec in overrides.items()},
    }


def assert_throttled(response, *, at_most: int):
    assert response.status_code == 429, (response.status_code, response.content)
    assert 1 <= int(response["Retry-After"]) <= at_most
    assert set(response.json()) == {"detail"} and response.json()["detail"]


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def staff_of_every_role(world):
    """An API client of a staff user of each role (the `world`'s and three more)."""
    return {
        "community_worker": world.wa,
        "hotel_staff": world.hotel,
        "policy_admin": world.policy,
        "cdc_officer": world.cdc,
        "tourism_officer": world.personas.client("officer_1"),
        "hotline_operator": world.personas.client("op_1"),
        "auditor": world.personas.client("auditor_1"),
    }


# --- partners ---------------------------------------------------------------------------------------


def test_a_partner_enumerating_id_numbers_gets_429_with_retry_after_past_its_rate(world, settings, clock):
    rates(settings, status="5/m")
    ids = unknown_ids(7)
    assert [lookup(world.gate, idn).status_code for idn in ids[:5]] == [404] * 5
    assert_throttled(lookup(world.gate, ids[5]), at_most=60)
    # Once the minute is over the partner has its budget back.
    clock.shift(dt.timedelta(seconds=60))
    assert lookup(world.gate, ids[6]).status_code == 404


def test_each_partner_has_its_own_budget_and_its_tokens_share_one(world, settings, clock):
    from apps.accounts.services import api_token_issue

    rates(settings, status="3/m")
    other = world.personas.client("all-scopes")
    second_token = client(api_token_issue(user=User.objects.get(partner__name="gateway")))
    for idn in unknown_ids(2):
        assert lookup(world.gate, idn).status_code == 404
    assert lookup(second_token, unknown_ids(1, 50)[0]).status_code == 404
    assert_throttled(lookup(second_token, unknown_ids(1, 51)[0]), at_most=60)  # the same partner
    assert_throttled(lookup(world.gate, unknown_ids(1, 52)[0]), at_most=60)
    assert [lookup(other, idn).status_code for idn in unknown_ids(3, 60)] == [404] * 3  # another one


def test_a_partner_budget_is_per_scope(world, settings, clock):
    rates(settings, status="2/m", feeds="2/m")
    both = world.personas.client("all-scopes")  # status and feeds (and restrictions)
    for idn in unknown_ids(2):
        assert lookup(both, idn).status_code == 404
    assert lookup(both, unknown_ids(1, 9)[0]).status_code == 429
    body = {"records": []}
    assert both.post("/api/v1/feeds/stays/", body, format="json").status_code == 200
    assert both.post("/api/v1/feeds/stays/", body, format="json").status_code == 200
    assert_throttled(both.post("/api/v1/feeds/stays/", body, format="json"), at_most=60)


# --- staff ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_each_staff_role_enumerating_id_numbers_gets_429(staff_of_every_role, settings, clock, role):
    rates(settings, identity="4/m", identity__hotel_staff="4/m")
    api = staff_of_every_role[role]
    ids = unknown_ids(5)
    assert [lookup(api, idn).status_code for idn in ids[:4]] == [404] * 4
    assert_throttled(lookup(api, ids[4]), at_most=60)
    # The stricter budget is the ID numbers': the rest of the API still answers.
    assert api.get("/api/v1/ping/").status_code == 200
    # Another user of the same role has a budget of their own.
    other = client(api_token_for_new_user(role))
    assert lookup(other, ids[0]).status_code == 404


def api_token_for_new_user(role: str) -> str:
    from apps.accounts.services import staff_upsert

    org = User.objects.filter(role=role).values_list("organisation__code", flat=True).first()
    return staff_upsert(username=f"second_{role}", role=role, org_code=org)[1]


@pytest.mark.parametrize("role", ROLES)
def test_each_staff_role_has_a_budget_for_every_request(staff_of_every_role, settings, clock, role):
    rates(settings, staff="3/m", cdc_officer="3/m")
    api = staff_of_every_role[role]
    assert [api.get("/api/v1/ping/").status_code for _ in range(3)] == [200] * 3
    assert_throttled(api.get("/api/v1/ping/"), at_most=60)
    assert_throttled(lookup(api, unknown_ids(1)[0]), at_most=60)


def test_a_role_can_have_a_rate_of_its_own(staff_of_every_role, settings, clock):
    rates(settings, identity="2/m", identity__hotel_staff="4/m")
    hotel, worker = staff_of_every_role["hotel_staff"], staff_of_every_role["community_worker"]
    assert [lookup(hotel, idn).status_code for idn in unknown_ids(5)] == [404] * 4 + [429]
    assert [lookup(worker, idn).status_code for idn in unknown_ids(3)] == [404] * 2 + [429]


def guest(idn):
    return {"person": {"id_type": "resident_id", "id_number": idn}}


def appeal(idn):
    return {
        "person": {"id_type": "resident_id", "id_number": idn},
        "channel": "12345",
        "category": "wrongly_flagged",
        "description": "来电",
        "caller_phone": "13812345678",
    }


def person(idn):
    return {"id_type": "resident_id", "id_number": idn, "name": "王小明", "reason": "核实"}


@pytest.mark.parametrize(
    ("role", "path", "body"),
    [
        ("hotel_staff", "/api/v1/hotel-stays/", guest),
        ("hotline_operator", "/api/v1/appeals/", appeal),
        ("cdc_officer", "/api/v1/persons/", person),
    ],
)
def test_every_door_that_tests_an_id_number_counts_against_the_same_budget(
    staff_of_every_role, settings, clock, role, path, body
):
    rates(settings, identity="3/m", identity__hotel_staff="3/m")
    api = staff_of_every_role[role]
    codes = [api.post(path, body(idn), format="json").status_code for idn in unknown_ids(4)]
    assert 429 not in codes[:3], codes
    assert codes[3] == 429
    # ... which the status look-up shares: the ID numbers tested, by whatever door.
    assert_throttled(lookup(api, unknown_ids(1, 99)[0]), at_most=60)


def test_the_default_rates_stop_a_hotline_operator_enumerating_in_a_minute(staff_of_every_role, settings, clock):
    settings.API_THROTTLE_RATES = base.API_THROTTLE_RATES
    api = staff_of_every_role["hotline_operator"]
    limit = parse_rates(base.API_THROTTLE_RATES["identity"])[0]
    assert limit == Rate(30, 60)
    codes = [lookup(api, idn).status_code for idn in unknown_ids(limit.count + 1)]
    assert codes == [404] * limit.count + [429]


def test_the_default_rates_are_what_a_deployment_needs():
    """Partners at a gateway's pace, staff at a person's; every default parses."""
    defaults = {name: parse_rates(spec) for name, spec in base.API_THROTTLE_RATES.items()}
    per_second = {name: min(r.count / r.seconds for r in rs) for name, rs in defaults.items()}
    assert per_second["status"] >= 1000
    assert per_second["feeds"] >= 50
    assert per_second["staff"] <= 5 and per_second["identity"] <= 1
    assert per_second["anon"] <= 1
    for spec in base.LOOKUP_LIMITS.values():
        assert parse_rates(spec)


def test_an_anonymous_caller_is_limited_by_address(settings, clock, db):
    from rest_framework.test import APIClient

    rates(settings, anon="2/m")
    first, second = APIClient(REMOTE_ADDR="10.0.0.1"), APIClient(REMOTE_ADDR="10.0.0.2")
    assert [first.get("/api/v1/schema/?format=json").status_code for _ in range(2)] == [200, 200]
    assert_throttled(first.get("/api/v1/schema/?format=json"), at_most=60)
    assert second.get("/api/v1/schema/?format=json").status_code == 200


def test_every_operation_that_takes_an_id_number_is_an_identity_route(db):
    """A new endpoint that takes an ID number is counted as an ID test once it is named in
    IDENTITY_ROUTES; this fails until it is (partner-only operations, such as the feeds, are
    counted by their scope)."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]

    def mentions_id_number(node, seen=()) -> bool:
        if isinstance(node, dict):
            if "$ref" in node:
                name = node["$ref"].rsplit("/", 1)[-1]
                return name not in seen and mentions_id_number(components[name], (*seen, name))
            if "id_number" in node.get("properties", {}):
                return True
            return any(mentions_id_number(v, seen) for v in node.values())
        if isinstance(node, list):
            return any(mentions_id_number(v, seen) for v in node)
        return False

    found, missing = set(), []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            takes = any(p["name"] == "id_number" for p in operation.get("parameters", []))
            takes = takes or mentions_id_number(operation.get("requestBody", {}))
            if not takes:
                continue
            match = resolve(path.replace("{", "").replace("}", ""))
            roles = getattr(match.func.view_class, "allowed_roles", ())
            if isinstance(roles, dict):
                roles = roles.get(method.upper(), ())
            if not roles:
                continue  # no staff role may call it
            found.add((match.url_name, method.upper()))
            if (match.url_name, method.upper()) not in IDENTITY_ROUTES:
                missing.append((method.upper(), path))
    assert not missing
    assert {("status", "GET"), ("persons", "POST"), ("appeals", "POST"), ("hotel-stays", "POST")} <= found


def test_every_operation_documents_429(db):
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert "429" in operation["responses"], (method, path)
            assert "Retry-After" in operation["responses"]["429"]["description"]


def test_a_cache_that_cannot_be_reached_lets_the_request_through_and_says_so(world, settings, monkeypatch, caplog):
    from redis.exceptions import ConnectionError as RedisConnectionError

    def down(*args, **kwargs):
        raise RedisConnectionError("Connection refused")

    rates(settings, status="1/m")
    monkeypatch.setattr(throttling, "_hit_cache", down)
    with caplog.at_level(logging.ERROR, logger="apps.accounts.throttling"):
        assert [lookup(world.gate, idn).status_code for idn in unknown_ids(3)] == [404] * 3
    assert "Rate-limit cache unavailable" in caplog.text


# --- the admin forms' look-up limiter ---------------------------------------------------------------


class Someone:
    def __init__(self, pk):
        self.pk = pk


def test_lookup_check_locks_a_user_out_past_the_limit_and_says_until_when(settings, clock):
    settings.LOOKUP_LIMITS = {"default": "3/m"}
    settings.LOOKUP_LOCKOUT_SECONDS = 600
    user = Someone(1)
    for _ in range(3):
        lookup_check(user, "appeal_preview")
    with pytest.raises(TooManyLookups) as refused:
        lookup_check(user, "appeal_preview")
    assert isinstance(refused.value, DomainError) and refused.value.status_code == 429
    assert refused.value.retry_after == 600
    assert "10:10:00" in refused.value.message  # T0 + 10 minutes, Beijing time
    # The lock-out outlasts the window: a new minute does not give the budget back ...
    clock.shift(dt.timedelta(seconds=61))
    with pytest.raises(TooManyLookups) as still:
        lookup_check(user, "appeal_preview")
    assert 530 <= still.value.retry_after <= 540
    # ... the end of the lock-out does.
    clock.shift(dt.timedelta(seconds=540))
    lookup_check(user, "appeal_preview")


def test_lookup_check_counts_per_user_and_kind(settings, clock):
    settings.LOOKUP_LIMITS = {"default": "2/10m", "hotel_checkin": "4/10m"}
    one, two = Someone(1), Someone(2)
    lookup_check(one, "person_search")
    lookup_check(one, "person_search")
    with pytest.raises(TooManyLookups):
        lookup_check(one, "person_search")
    lookup_check(two, "person_search")  # another user
    for _ in range(4):  # another kind, with a limit of its own
        lookup_check(one, "hotel_checkin")
    with pytest.raises(TooManyLookups):
        lookup_check(one, "hotel_checkin")


def test_lookup_check_uses_the_default_limits_as_configured(settings, clock):
    settings.LOOKUP_LIMITS = base.LOOKUP_LIMITS
    settings.LOOKUP_LOCKOUT_SECONDS = base.LOOKUP_LOCKOUT_SECONDS
    user = Someone(7)
    limit = parse_rates(base.LOOKUP_LIMITS["default"])[0]
    assert limit == Rate(60, 600)
    for _ in range(limit.count):
        lookup_check(user, "appeal_preview")
    with pytest.raises(TooManyLookups) as refused:
        lookup_check(user, "appeal_preview")
    assert refused.value.retry_after == base.LOOKUP_LOCKOUT_SECONDS


def test_lookup_check_with_no_limit_never_refuses(settings, clock):
    settings.LOOKUP_LIMITS = {"default": None}
    for _ in range(200):
        lookup_check(Someone(1), "anything")


def test_too_many_lookups_answers_429_with_retry_after_in_the_api():
    response = exception_handler(TooManyLookups("slow down", retry_after=42), {})
    assert response.status_code == 429
    assert response["Retry-After"] == "42"
    assert response.data == {"detail": "slow down"}


# --- Redis: one round trip, one budget for every process ---------------------------------------------

needs_redis = pytest.mark.skipif(not BROKER and not REQUIRED, reason="CELERY_TEST_BROKER_URL is not set")


@needs_redis
def test_on_redis_a_request_costs_one_round_trip_and_every_process_shares_the_budget(settings, clock, monkeypatch):
    import uuid

    import redis
    from django.core.cache.backends.redis import RedisCache

    assert BROKER, "required service missing: CELERY_TEST_BROKER_URL"
    prefix = f"hk-test-{uuid.uuid4().hex}"
    # Two caches on one Redis, as two web processes have: what one counts the other sees.
    processes = [RedisCache(BROKER, {"KEY_PREFIX": prefix}) for _ in range(2)]
    turn = iter(range(1000))
    monkeypatch.setattr(throttling, "_cache", lambda: processes[next(turn) % 2])

    trips = []
    original = redis.client.Pipeline.execute
    monkeypatch.setattr(
        redis.client.Pipeline, "execute", lambda self, *a, **k: trips.append(1) or original(self, *a, **k)
    )
    single = []
    original_command = redis.Redis.execute_command
    monkeypatch.setattr(
        redis.Redis, "execute_command", lambda self, *a, **k: single.append(a[0]) or original_command(self, *a, **k)
    )

    class Request:
        method = "GET"
        resolver_match = resolve("/api/v1/status/")
        user = User(pk=10**9, role="hotline_operator", username="x")
        META = {"REMOTE_ADDR": "10.0.0.1"}

    class View:
        required_scopes = ("status",)

    rates(settings, staff="100/m", identity="3/m")
    try:
        answers = [throttling.ApiThrottle().allow_request(Request, View) for _ in range(4)]
        assert answers == [True, True, True, False]
        assert len(trips) == 4 and single == []  # one pipeline (both budgets) a request, nothing else
        settings.LOOKUP_LIMITS = {"default": "2/m"}
        trips.clear()
        lookup_check(Request.user, "appeal_preview")
        lookup_check(Request.user, "appeal_preview")
        assert len(trips) == 2 and single == []
        with pytest.raises(TooManyLookups):
            lookup_check(Request.user, "appeal_preview")
        with pytest.raises(TooManyLookups):  # locked out, as seen by the other process too
            lookup_check(Request.user, "appeal_preview")
    finally:
        client_ = redis.Redis.from_url(BROKER)
        for key in client_.scan_iter(f"{prefix}:*"):
            client_.delete(key)


# --- production -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"REDIS_CACHE_URL": None}, "REDIS_CACHE_URL"),
        ({"REDIS_CACHE_URL": "locmem://"}, "REDIS_CACHE_URL"),
        ({"API_THROTTLE_RATES": '{"status": "fast"}'}, "API_THROTTLE_RATES"),
        ({"LOOKUP_LIMITS": '{"default": "60/0m"}'}, "LOOKUP_LIMITS"),
    ],
)
def test_production_refuses_to_start_without_the_redis_cache_or_with_a_bad_rate(overrides, named):
    from tests.core.test_production_settings import check

    result = check(overrides)
    assert result.returncode != 0
    assert "Production settings refused" in result.stderr
    assert named in result.stderr.split("Production settings refused", 1)[1]
