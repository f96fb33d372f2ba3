"""Bad input of every kind answers as API.md says, never with a 500, and a feed batch keeps its good
records (issue 12, "No 500 on any input, and nothing accepted lost"):

- JSON nested deeper than API_JSON_MAX_DEPTH: 400 naming the limit, on every JSON endpoint;
- text no column can hold (a NUL, a lone surrogate): the field named, per record in a feed batch
  (the others kept and counted), for the whole request elsewhere;
- numbers bounded to their columns, dates to a sane range, birth dates to 1900..today, and the proxy
  rule refusing a birth date in the future whatever is stored;
- a body over API_MAX_BODY_BYTES: 413 in JSON naming the limit, also through a real gunicorn;
- on the staff screens, a NUL in a parameter (400) or path (404), and an id a model's key cannot be
  in a history URL (404), for every admin; the proxies' history pages work; every number, date and
  time a form takes bounded (the portal's forms and every admin model form);
- every API answer `Cache-Control: no-store`; the development server's request log without query
  strings.

Endpoints, feeds and admin pages are walked from the URLconf, `FEEDS` and the admin registry, so a
new one is covered without editing this file.
"""

import datetime as dt
import io
import json
import logging
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import time_machine
from django import forms
from django.apps import apps as django_apps
from django.conf import settings
from django.contrib import admin
from django.core.servers.basehttp import WSGIRequestHandler
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy
from drf_spectacular.generators import EndpointEnumerator
from rest_framework import serializers
from rest_framework.test import APIClient
from simple_history.admin import SimpleHistoryAdmin

from apps.accounts.models import User
from apps.accounts.services import api_token_issue
from apps.core.admin import BaseAdmin
from apps.core.api import BoundedDateField
from apps.core.clock import local_date, now
from apps.core.forms import MomentFormField, validate_date, validate_moment
from apps.core.text import UNSTORABLE_MESSAGE
from apps.evidence.models import Ingestion, ObservationOrder
from apps.evidence.services import FEEDS
from apps.hotels.models import CurrentGuest, HotelOverview
from apps.people.identity import proxy_lookup_allowed
from apps.people.models import Person
from apps.policy.models import LocalCaseReport
from tests.api.helpers import CASE_COUNTY, RISK_COUNTY, at, iso, rid

ROOT = Path(__file__).resolve().parents[2]
IDN = rid("11010519900101123")
SURROGATE = "\udfff"


def in_both_languages(message) -> set[str]:
    """A message as the portal says it in English and in Chinese (its default)."""
    texts = set()
    for code in ("en", "zh-hans"):
        with translation.override(code):
            texts.add(str(message))
    return texts


STORED = in_both_languages(UNSTORABLE_MESSAGE)


def refused_as_too_deep(response) -> bool:
    """A 400 whose detail is the depth limit's, naming API_JSON_MAX_DEPTH, in either language."""
    message = gettext_lazy("JSON nested deeper than the limit of %(limit)d levels (arrays and objects).")
    expected = {text % {"limit": settings.API_JSON_MAX_DEPTH} for text in in_both_languages(message)}
    return response.status_code == 400 and response.json() in [{"detail": text} for text in expected]


def unstorable(errors: dict) -> dict:
    """Field errors with the refusal of unstorable text written as "unstorable"."""
    return {field: ["unstorable" if m in STORED else m for m in messages] for field, messages in errors.items()}


def raw(c: APIClient, method: str, path: str, body) -> object:
    """`body` sent as JSON text exactly (json.dumps escapes a lone surrogate as `\\udfff`, as a
    partner's JSON would carry it)."""
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return c.generic(method, path, data=data, content_type="application/json")


def deep(levels: int) -> str:
    return '{"a":' * (levels - 1) + "[]" + "}" * (levels - 1)


@pytest.fixture
def root(db):
    """A superuser's token: past every role and scope check, so each endpoint reads its body
    (before it looks anything up: no data is needed)."""
    user = User.objects.create_superuser("root", email="root@example.org", password="root-password-long-9")
    c = APIClient(raise_request_exception=False)
    c.credentials(HTTP_AUTHORIZATION="Token " + api_token_issue(user=user))
    c.user = user
    return c


def api_operations() -> list[tuple[str, str]]:
    """(method, path) of every API operation in the URLconf, path parameters filled in (every feed
    by name)."""
    operations = []
    for path, _regex, method, _callback in EndpointEnumerator().get_api_endpoints():
        if not path.startswith("/api/"):
            continue
        if "{feed}" in path:
            operations += [(method, path.replace("{feed}", name)) for name in FEEDS]
        else:
            operations.append((method, re.sub(r"\{[^}]+\}", "nope", path)))
    assert len(operations) > 20
    return sorted(set(operations))


BODY_OPERATIONS = [op for op in api_operations() if op[0] in ("POST", "PUT", "PATCH")]
GET_OPERATIONS = [op for op in api_operations() if op[0] == "GET"]


def no_server_error(response):
    assert response.status_code < 500, (response.status_code, response.content[:300])
    return response


# --- JSON depth ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), BODY_OPERATIONS)
def test_json_nested_too_deep_answers_400_naming_the_limit_on_every_json_endpoint(root, method, path):
    limit = settings.API_JSON_MAX_DEPTH
    for levels in (1000, 100_000, limit + 1):
        r = no_server_error(raw(root, method, path, deep(levels)))
        assert refused_as_too_deep(r), (levels, r.content[:200])
    # At the limit the body is read (and answered as whatever it is).
    r = no_server_error(raw(root, method, path, deep(limit)))
    assert not refused_as_too_deep(r)


def test_the_depth_counts_arrays_and_objects(root):
    limit = settings.API_JSON_MAX_DEPTH
    for body, refused in (("[" * limit + "]" * limit, False), ("[" * (limit + 1) + "]" * (limit + 1), True)):
        r = no_server_error(raw(root, "POST", "/api/v1/feeds/stays/", body))
        assert refused_as_too_deep(r) is refused


# --- text that cannot be stored --------------------------------------------------------------------------


def strings_of(schema: dict, components: dict) -> list[str]:
    """The top-level string properties of a request body's schema."""
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    return [name for name, prop in schema.get("properties", {}).items() if prop.get("type") == "string"]


@pytest.fixture(scope="module")
def published(django_db_blocker):
    with django_db_blocker.unblock():
        return Client().get("/api/v1/schema/?format=json").json()


@pytest.mark.parametrize(("method", "path"), [op for op in BODY_OPERATIONS if "/feeds/" not in op[1]])
def test_text_that_cannot_be_stored_is_a_field_error_on_every_other_json_endpoint(root, published, method, path):
    template = next(p for p in published["paths"] if re.fullmatch(re.sub(r"\{[^}]+\}", "nope", p), path))
    operation = published["paths"][template][method.lower()]
    schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    fields = strings_of(schema, published["components"]["schemas"]) or ["anything"]
    for bad in (SURROGATE, "\x00", "a\ud800b"):
        body = {name: f"x{bad}y" for name in fields} | {"nested": {"deeper": [f"{bad}"]}, f"key{bad}": 1}
        r = no_server_error(raw(root, method, path, body))
        assert r.status_code == 400
        errors = r.json()
        assert {*fields, "nested.deeper[0]"} <= set(errors), errors
        assert unstorable(errors)["nested.deeper[0]"] == ["unstorable"]
        escaped = f"key{bad}".encode("unicode_escape").decode()
        assert unstorable(errors)[escaped] == ["unstorable"]


# A valid record of each feed; every feed must have one here (a new feed fails until it has).
def valid_record(feed: str, n: int) -> dict:
    person = {"id_type": "resident_id", "id_number": IDN}
    return {
        "stays": {
            "source": "rail",
            **person,
            "area_code": RISK_COUNTY,
            "precision": "county",
            "arrived_at": iso(2021, 7, 20, 8),
            "departed_at": iso(2021, 7, 21, 8),
        },
        "lab-results": {**person, "sampled_at": iso(2021, 7, 20, 8), "result": "negative", "institution": "朝阳医院"},
        "health-events": {**person, "kind": "clinic_visit", "occurred_at": iso(2021, 7, 20, 8), "detail": "fever"},
        "inbound-arrivals": {**person, "entered_at": iso(2021, 7, 20, 8), "port": "PEK"},
        "observation-orders": {**person, "kind": "home", "starts_at": iso(2021, 7, 20, 8), "reason": "密接"},
        "associations": {**person, "kind": "epidemiological", "observed_at": iso(2021, 7, 20, 8), "detail": "同行"},
        "local-cases": {"area_code": CASE_COUNTY, "reported_on": "2021-07-20", "count": 2},
    }[feed] | {"external_id": f"{feed}-ok-{n}"}


def test_every_feed_has_a_valid_record_here():
    for feed in FEEDS:
        assert valid_record(feed, 0)


@pytest.mark.parametrize("feed", sorted(FEEDS))
def test_a_feed_rejects_each_record_with_unstorable_text_naming_the_field_and_keeps_the_others(world, feed):
    for n, bad in enumerate((SURROGATE, "\x00", "\ud83d")):
        _one_bad_batch(world, feed, bad, n)


def _one_bad_batch(world, feed: str, bad: str, n: int) -> None:
    first = valid_record(feed, 10 * n + 1)
    text_fields = [name for name, value in first.items() if isinstance(value, str)]
    poisoned = [valid_record(feed, 100 + i) | {name: f"{first[name]}{bad}"} for i, name in enumerate(text_fields)]
    bad_key = valid_record(feed, 200) | {f"extra{bad}": "x"}
    records = [first, *poisoned, bad_key, valid_record(feed, 10 * n + 2)]

    r = raw(world.feeds, "POST", f"/api/v1/feeds/{feed}/", {"records": records})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["accepted"] == 2 and body["updated"] == 0 and body["duplicates"] == 0
    rejected = {x["index"]: unstorable(x["errors"]) for x in body["rejected"]}
    expected = {1 + i: {name: ["unstorable"]} for i, name in enumerate(text_fields)}
    expected[len(records) - 2] = {f"extra{bad}".encode("unicode_escape").decode(): ["unstorable"]}
    assert rejected == expected
    # Both good records are stored, and the batch is kept exactly as received.
    model = FEEDS[feed].model
    assert model.objects.filter(external_id__in=[first["external_id"], records[-1]["external_id"]]).count() == 2
    ingestion = Ingestion.objects.filter(feed=feed).latest("pk")
    assert ingestion.payload == {"records": records}
    assert ingestion.accepted == 2 and len(ingestion.rejected) == len(expected)


def test_a_record_of_unstorable_text_sent_again_is_rejected_again_and_the_good_one_is_a_duplicate(world):
    records = [valid_record("stays", 1), valid_record("stays", 2) | {"external_id": f"x{SURROGATE}"}]
    first = raw(world.feeds, "POST", "/api/v1/feeds/stays/", {"records": records}).json()
    again = raw(world.feeds, "POST", "/api/v1/feeds/stays/", {"records": records}).json()
    assert (first["accepted"], again["accepted"], again["duplicates"]) == (1, 0, 1)
    assert [x["index"] for x in again["rejected"]] == [1]


def test_a_batch_of_more_records_than_the_limit_is_refused_whole(world, settings):
    settings.FEED_MAX_RECORDS = 3
    r = world.feeds.post(
        "/api/v1/feeds/stays/", {"records": [valid_record("stays", i) for i in range(4)]}, format="json"
    )
    assert r.status_code == 400 and list(r.json()) == ["records"]
    r = world.feeds.post(
        "/api/v1/feeds/stays/", {"records": [valid_record("stays", i) for i in range(3)]}, format="json"
    )
    assert r.status_code == 200 and r.json()["accepted"] == 3


# --- numbers and dates -------------------------------------------------------------------------------------


def test_a_local_case_count_outside_its_column_is_a_field_error(world):
    for n, count in enumerate([2**31, 2**31 + 1, 2**63, 10**30, 0, -1, -(2**31) - 1, 1.5, "2147483648"]):
        records = [valid_record("local-cases", 100 + n) | {"count": count}, valid_record("local-cases", n)]
        body = world.feed("local-cases", *records)
        assert body["accepted"] == 1, count
        assert [(x["index"], list(x["errors"])) for x in body["rejected"]] == [(0, ["count"])], count


def test_the_largest_count_the_column_holds_is_kept(world):
    assert world.feed("local-cases", valid_record("local-cases", 1) | {"count": 2**31 - 1})["accepted"] == 1
    assert LocalCaseReport.objects.get(external_id="local-cases-ok-1").count == 2**31 - 1


def _integer_properties(schema, components, where=""):
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    if schema.get("readOnly"):
        return  # in a request body's component: what the answer carries, never read
    if schema.get("type") == "integer":
        yield where, schema
    for name, prop in schema.get("properties", {}).items():
        yield from _integer_properties(prop, components, f"{where}.{name}")
    if "items" in schema:
        yield from _integer_properties(schema["items"], components, f"{where}[]")
    for key in ("allOf", "oneOf", "anyOf"):
        for sub in schema.get(key, []):
            yield from _integer_properties(sub, components, where)


def test_every_integer_the_api_takes_is_bounded_to_a_column(published):
    """Every integer of a request body or query in the published schema, and every IntegerField of
    a feed's records, has a minimum and a maximum that an integer column holds."""
    components = published["components"]["schemas"]
    found = []
    for path, operations in published["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                found += [
                    (f"{method} {path} ?{parameter['name']}", s)
                    for _w, s in _integer_properties(parameter["schema"], components)
                ]
            for content in operation.get("requestBody", {}).get("content", {}).values():
                found += [(f"{method} {path} {w}", s) for w, s in _integer_properties(content["schema"], components)]
    for feed, spec in FEEDS.items():
        for name, field in spec.schema().fields.items():
            if isinstance(field, serializers.IntegerField):
                found.append((f"feed {feed} {name}", {"minimum": field.min_value, "maximum": field.max_value}))
    assert found
    for where, schema in found:
        assert schema.get("minimum") is not None and schema.get("maximum") is not None, where
        assert -(2**31) <= schema["minimum"] <= schema["maximum"] <= 2**31 - 1, where


def _serializer_classes():
    seen, todo = set(), [serializers.Serializer]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub not in seen:
                seen.add(sub)
                todo.append(sub)
    # The project's serializers, and those made by drf-spectacular's `inline_serializer` for it.
    inline = [c for c in seen if c.__module__ == "drf_spectacular.utils" and "__init__" not in c.__dict__]
    return [c for c in seen if c.__module__.startswith("apps.")] + inline


def _fields(serializer, where=""):
    for name, field in serializer.fields.items():
        yield f"{where}{name}", field
        child = getattr(field, "child", None)
        if isinstance(field, serializers.Serializer):
            yield from _fields(field, f"{where}{name}.")
        elif isinstance(child, serializers.Serializer):
            yield from _fields(child, f"{where}{name}[].")
        elif child is not None:
            yield f"{where}{name}[]", child


def test_every_date_the_api_takes_is_a_bounded_date():
    classes = _serializer_classes()
    assert len(classes) > 30
    for cls in classes:
        try:
            instance = cls()
            fields = list(_fields(instance))
        except Exception as exc:  # an abstract base (a ModelSerializer without Meta)
            assert "Meta" in repr(exc) or isinstance(exc, AssertionError | AttributeError), (cls, exc)
            continue
        for where, field in fields:
            if isinstance(field, serializers.DateField) and not field.read_only:
                assert isinstance(field, BoundedDateField), f"{cls.__module__}.{cls.__name__}.{where}"


def test_a_local_case_date_is_from_2000_up_to_2100(world):
    days = [
        ("0001-01-01", False),
        ("9999-12-31", False),
        ("1999-12-31", False),
        ("2000-01-01", True),
        ("2099-12-31", True),
        ("2100-01-01", False),
    ]
    for n, (day, kept) in enumerate(days):
        body = world.feed("local-cases", valid_record("local-cases", n) | {"reported_on": day})
        assert body["accepted"] == int(kept), day
        assert [list(x["errors"]) for x in body["rejected"]] == ([] if kept else [["reported_on"]]), day


def _passport(world, birth_date, number="E1234567"):
    return world.feeds.post(
        "/api/v1/persons/",
        {"id_type": "passport", "id_number": number, "name": "John Smith", "birth_date": birth_date},
        format="json",
    )


def test_a_birth_date_in_the_future_or_before_1900_is_a_field_error(world):
    tomorrow = local_date(now()) + dt.timedelta(days=1)
    for birth in (dt.date(9999, 12, 31), tomorrow, dt.date(1899, 12, 31), dt.date(1, 1, 1)):
        r = _passport(world, birth.isoformat())
        assert r.status_code == 400, birth
        assert list(r.json()) == ["birth_date"], birth
    assert not Person.objects.filter(id_type="passport").exists()


def test_a_birth_date_from_1900_to_today_is_kept(world):
    for number, birth in (("E1234567", dt.date(1900, 1, 1)), ("E7654321", local_date(now()))):
        assert _passport(world, birth.isoformat(), number).status_code in (200, 201)
    assert sorted(Person.objects.filter(id_type="passport").values_list("birth_date", flat=True)) == [
        dt.date(1900, 1, 1),
        local_date(now()),
    ]


TODAY = dt.date(2021, 8, 16)


@pytest.mark.parametrize(
    ("birth", "allowed"),
    [
        (None, False),
        (dt.date(2021, 8, 17), False),  # tomorrow: age -1
        (dt.date(2090, 1, 1), False),
        (dt.date(1899, 12, 31), False),
        (dt.date(2021, 8, 16), True),  # born today: 0
        (dt.date(2005, 8, 16), True),  # 16 today
        (dt.date(2004, 8, 17), True),  # 16 until tomorrow
        (dt.date(2004, 8, 16), False),  # 17 today
        (dt.date(1961, 8, 17), False),  # 59 until tomorrow
        (dt.date(1961, 8, 16), True),  # 60 today
        (dt.date(1900, 1, 1), True),
    ],
)
def test_the_proxy_rule_by_age(birth, allowed):
    assert proxy_lookup_allowed(birth, TODAY) is allowed


def test_a_proxy_look_up_of_a_person_stored_with_a_future_birth_date_is_refused(world):
    assert _passport(world, "1950-01-01").status_code in (200, 201)
    gate = lambda: world.gate.get("/api/v1/status/", {"id_type": "passport", "id_number": "E1234567", "proxy": "1"})  # noqa: E731
    assert gate().status_code == 200
    # A birth date stored before birth dates were checked (or by a path that does not check).
    Person.objects.filter(id_type="passport").update(birth_date=local_date(now()) + dt.timedelta(days=400))
    assert gate().status_code == 403


# --- bodies over the limit ---------------------------------------------------------------------------------


def test_a_body_over_the_limit_answers_413_in_json_naming_the_limit(world, settings):
    settings.API_MAX_BODY_BYTES = 2000
    body = json.dumps({"records": [valid_record("stays", i) for i in range(20)]})
    assert len(body) > 2000
    r = raw(world.feeds, "POST", "/api/v1/feeds/stays/", body)
    assert r.status_code == 413
    assert r["Content-Type"] == "application/json"
    assert list(r.json()) == ["detail"] and " 2000 " in r.json()["detail"]
    assert r["Cache-Control"] == "no-store"
    assert not Ingestion.objects.exists()


def test_a_body_at_the_limit_is_read(world, settings):
    body = json.dumps({"records": [valid_record("stays", 1)]})
    settings.API_MAX_BODY_BYTES = len(body.encode())
    assert raw(world.feeds, "POST", "/api/v1/feeds/stays/", body).json()["accepted"] == 1


def test_django_never_refuses_a_body_the_api_accepts():
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE >= settings.API_MAX_BODY_BYTES


def test_the_limit_takes_a_batch_of_1000_of_any_feeds_longest_records():
    """The measure behind API_MAX_BODY_BYTES: 1,000 records with every text at its longest, in
    Chinese written as \\u escapes (six bytes a character), indented by four."""
    for feed, spec in FEEDS.items():
        record = valid_record(feed, 0)
        for name, field in spec.schema().fields.items():
            if isinstance(field, serializers.CharField) and not isinstance(field, serializers.ChoiceField):
                record[name] = "密" * (field.max_length or 200)
        size = len(json.dumps({"records": [record] * 1000}, indent=4).encode())
        assert size <= settings.API_MAX_BODY_BYTES, (feed, size)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post_raw(port: int, size: int) -> bytes:
    """POST `size` bytes with a plain socket, as a partner would, and read the whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(
            f"POST /api/v1/feeds/stays/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Authorization: Token nope\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n".encode()
        )
        chunk = b" " * 65536
        for _ in range(size // len(chunk)):
            s.sendall(chunk)
        s.sendall(b" " * (size % len(chunk)))
        answer = b""
        while data := s.recv(65536):
            answer += data
        return answer


def test_a_real_gunicorn_answers_a_body_over_the_limit_with_the_json_413_not_a_reset(tmp_path):
    """Through gunicorn (config/gunicorn.py's worker class): the refused body is read and dropped,
    so the connection is not reset under the client while it still sends. No database is touched
    before the limit is checked."""
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'none.sqlite3'}",
        "API_MAX_BODY_BYTES": "1000000",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "-b",
            f"127.0.0.1:{port}",
            "-k",
            "gthread",
            "--threads",
            "2",
            "-w",
            "1",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, server.stderr.read().decode()
                time.sleep(0.2)
        for size in (1_000_001, 3_500_000):
            answer = _post_raw(port, size)
            assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
            assert b'{"detail": ' in answer and b" 1000000 " in answer
            assert b"Cache-Control: no-store" in answer
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_content_length_that_is_no_number_is_a_json_400(world):
    r = world.feeds.generic(
        "POST", "/api/v1/feeds/stays/", data="{}", content_type="application/json", CONTENT_LENGTH="abc"
    )
    assert r.status_code == 400 and "detail" in r.json()


# --- no-store -------------------------------------------------------------------------------------------


def test_every_api_answer_is_no_store(root, settings):
    """Every answer but the public keys (API_CACHEABLE_PATHS: no personal data, no token; a
    verifier may cache them), which say how long they may be kept instead."""
    assert settings.API_CACHEABLE_PATHS == ["/api/v1/keys/"]
    for method, path in GET_OPERATIONS:
        for c in (root, APIClient()):
            r = no_server_error(c.generic(method, path))
            if path in settings.API_CACHEABLE_PATHS:
                assert "max-age" in r["Cache-Control"] and "no-store" not in r["Cache-Control"], r["Cache-Control"]
            else:
                assert r["Cache-Control"] == "no-store", (path, r.status_code)


def test_an_api_answer_of_any_kind_is_no_store(world):
    assert (
        world.gate.get("/api/v1/status/", {"id_type": "resident_id", "id_number": IDN})["Cache-Control"] == "no-store"
    )
    assert world.feeds.get("/api/v1/no-such-thing/")["Cache-Control"] == "no-store"
    assert world.feeds.post("/api/v1/feeds/stays/", {"records": []}, format="json")["Cache-Control"] == "no-store"
    assert APIClient().get("/api/v1/schema/")["Cache-Control"] == "no-store"


# --- the development server's log ----------------------------------------------------------------------


def test_the_development_servers_request_log_has_no_query_strings():
    handler = next(h for h in logging.getLogger("django.server").handlers if h.name == "django.server")
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        request = WSGIRequestHandler.__new__(WSGIRequestHandler)
        request.request = None
        for line, code in (
            (f"GET /api/v1/status/?id_type=resident_id&id_number={IDN} HTTP/1.1", "200"),
            (f"GET /admin/people/person/?q={IDN}&o=1 HTTP/1.1", "302"),
            (f"GET /api/v1/status/?id_number={IDN} HTTP/1.1", "404"),
        ):
            request.log_message('"%s" %s %s', line, code, "17")
    finally:
        handler.setStream(previous)
    log = stream.getvalue()
    assert IDN not in log and "id_number" not in log and "?" not in log
    assert '"GET /api/v1/status/ HTTP/1.1" 200 17' in log
    assert '"GET /admin/people/person/ HTTP/1.1" 302 17' in log
    assert '"GET /api/v1/status/ HTTP/1.1" 404 17' in log


# --- the staff screens ---------------------------------------------------------------------------------


def admin_pages():
    """(model, model admin) for every admin registered on the site."""
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def filter_parameters(model_admin) -> list[str]:
    """The query parameters a list's declared filters read (and the search's)."""
    names = ["q"]
    for spec in model_admin.list_filter:
        if isinstance(spec, str):
            names += [f"{spec}__exact", f"{spec}__id__exact", f"{spec}__isnull"]
        elif isinstance(spec, tuple):
            names += [f"{spec[0]}__exact", f"{spec[0]}__gte", f"{spec[0]}__lt"]
        else:
            names.append(getattr(spec, "parameter_name", None) or "x")
    return names


@pytest.fixture
def superuser_client(client, db):
    user = User.objects.create_superuser("root", email="root@example.org", password="root-password-long-9")
    client.force_login(user)
    client.raise_request_exception = False
    return client


def _url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_a_nul_in_any_list_parameter_answers_400_on_every_admin_list(superuser_client):
    for model, model_admin in admin_pages():
        url = _url(model, "changelist")
        assert no_server_error(superuser_client.get(url)).status_code in (200, 302)
        for name in filter_parameters(model_admin):
            r = no_server_error(superuser_client.get(f"{url}?{name}=a%00b"))
            assert r.status_code == 400, (url, name, r.status_code)
        assert superuser_client.get(f"{url}?q=abc&o=1%00").status_code == 400


def test_an_id_no_key_can_be_finds_nothing_on_every_admin(superuser_client):
    for model, model_admin in admin_pages():
        _bad_ids_find_nothing(superuser_client, model, model_admin)


def _bad_ids_find_nothing(superuser_client, model, model_admin):
    for object_id in ("abc", "-1.5", "9" * 40, "a b"):
        history = no_server_error(superuser_client.get(_url(model, "history", object_id)))
        change = no_server_error(superuser_client.get(_url(model, "change", object_id)))
        assert history.status_code in (302, 404) and change.status_code in (302, 404), object_id
        if isinstance(model_admin, SimpleHistoryAdmin):
            version = no_server_error(superuser_client.get(_url(model, "simple_history", object_id, "abc")))
            assert version.status_code == 404
    nul_url = _url(model, "history", "a\x00b")
    assert "a%00b" in nul_url
    assert no_server_error(superuser_client.get(nul_url)).status_code == 404


def test_a_nul_in_a_form_answers_400_not_a_database_error(client, world):
    r = client.post("/admin/login/", {"username": "worker_a\x00", "password": "x"})
    assert r.status_code == 400
    r = client.get("/admin/autocomplete/?term=a%00&app_label=people&model_name=person&field_name=person")
    assert r.status_code == 400


def test_the_history_of_the_hotel_screens_proxies_works(superuser_client, world):
    with time_machine.travel(at(2021, 7, 1, 10), tick=False):
        r = world.hotel.post(
            "/api/v1/hotel-stays/",
            {
                "person": {"id_type": "resident_id", "id_number": IDN, "name": "赵客"},
                "nat": {"sampled_at": iso(2021, 6, 30, 9), "result": "negative"},
            },
            format="json",
        )
    assert r.status_code == 201, r.content
    guest = CurrentGuest.objects.get()
    hotel = HotelOverview.objects.get(code="H1")
    for model, pk in ((CurrentGuest, guest.pk), (HotelOverview, hotel.pk)):
        r = superuser_client.get(_url(model, "history", pk))
        assert r.status_code == 200, (model, r.status_code)
        assert "history" in r.content.decode().lower()
        assert superuser_client.get(_url(model, "history", pk + 100_000)).status_code == 404
    # The hotel's own clerk sees the guest's history; the history of a row they cannot see is 404.
    client = Client()
    client.force_login(User.objects.get(username="hotel_1"))
    assert client.get(_url(CurrentGuest, "history", guest.pk)).status_code == 200
    assert client.get(_url(CurrentGuest, "history", guest.pk + 100_000)).status_code == 404


def test_every_history_admin_is_of_a_model_with_history():
    for model, model_admin in admin.site._registry.items():
        if isinstance(model_admin, SimpleHistoryAdmin):
            assert hasattr(model._meta, "simple_history_manager_attribute"), model
            assert django_apps.get_model(model._meta.label)


# --- the staff screens' forms: numbers, times and dates bounded too ------------------------------------


def _form_classes():
    seen, todo = set(), [forms.BaseForm]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in seen:
                seen.add(sub)
                todo.append(sub)
    # Model forms take their fields from the models: the admin's are walked below.
    return [c for c in seen if c.__module__.startswith("apps.") and not issubclass(c, forms.BaseModelForm)]


def _bounded_time(field) -> bool:
    return isinstance(field, MomentFormField) or any(v in field.validators for v in (validate_moment, validate_date))


def test_every_number_time_and_date_of_the_portals_own_forms_is_bounded():
    classes = _form_classes()
    assert len(classes) > 10
    for cls in classes:
        for name, field in cls.base_fields.items():
            where = f"{cls.__module__}.{cls.__name__}.{name}"
            if isinstance(field, forms.IntegerField):
                assert field.min_value is not None and field.max_value is not None, where
            if isinstance(field, forms.DateField | forms.DateTimeField | forms.SplitDateTimeField):
                assert _bounded_time(field), where


def test_every_date_and_time_of_every_admin_model_form_is_bounded(superuser_client, rf):
    request = rf.get("/admin/")
    request.user = User.objects.get(username="root")
    checked = 0
    for model, model_admin in admin_pages():
        if not model._meta.app_config.name.startswith("apps."):
            continue  # the libraries' own (celery beat's schedules, axes, django-otp)
        assert isinstance(model_admin, BaseAdmin), model
        form = model_admin.get_form(request)
        for name, field in form.base_fields.items():
            if isinstance(field, forms.DateField | forms.DateTimeField | forms.SplitDateTimeField):
                assert _bounded_time(field), f"{model._meta.label}.{name}"
                checked += 1
    assert checked > 5


def test_an_order_starting_in_year_9999_is_a_form_error_not_an_overflow(world, client):
    ref = world.person(IDN, community="CA")
    client.force_login(User.objects.get(username="cdc_1"))
    client.raise_request_exception = False
    url = reverse("casework_admin:order_start", args=[ref])
    for starts_at in ("9999-12-31T23:59", "0001-01-01T00:00", "1999-12-31T23:59"):
        r = client.post(url, {"kind": "home", "starts_at": starts_at, "days": "60", "reason": "密接"})
        assert r.status_code == 200, (starts_at, r.status_code)
        assert "starts_at" in r.context["form"].errors, starts_at
    assert not ObservationOrder.objects.exists()


def test_a_form_body_with_too_many_fields_is_a_json_400(root):
    body = "&".join(f"f{i}=x" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    r = root.generic("POST", "/api/v1/persons/", data=body, content_type="application/x-www-form-urlencoded")
    assert r.status_code == 400
    assert r["Content-Type"] == "application/json" and "detail" in r.json()
    assert r["Cache-Control"] == "no-store"
