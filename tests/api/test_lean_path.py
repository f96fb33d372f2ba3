"""The status look-up's lean path keeps every rule: the browser middleware (BrowserMiddleware)
skipped for a token API request only; the look-up's query read directly with the serializer's
errors kept; `person_by_id`'s fixed-text statement only where the access layer sees everyone."""

import pytest
from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.db import connection
from django.test import RequestFactory
from django.utils.module_loading import import_string

from apps.audit.models import AccessLog
from apps.core.middleware import is_token_api_request
from apps.people.models import Person
from apps.people.selectors import person_by_id
from apps.status.api.views import status_query
from tests.api.helpers import rid

IDN = rid("11010519900101123")
STATUS = "/api/v1/status/"


def test_the_browser_middleware_holds_what_the_admin_and_axes_ask_for_in_their_order():
    """The admin's checks (E408-E410) and axes' (W002) are silenced because their middleware sit
    in BROWSER_MIDDLEWARE: this is the check in their place."""
    chain = [import_string(path) for path in settings.BROWSER_MIDDLEWARE]
    assert chain.index(SessionMiddleware) < chain.index(AuthenticationMiddleware)
    assert MessageMiddleware in chain
    assert settings.BROWSER_MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"
    assert settings.MIDDLEWARE[-1] == "apps.core.middleware.BrowserMiddleware"


@pytest.mark.parametrize(
    ("path", "authorization", "skipped"),
    [
        ("/api/v1/status/", "Token abc", True),
        ("/api/v1/status/", "token abc", True),
        ("/api/v1/status/", "Bearer abc", False),  # DRF falls back to the session
        ("/api/v1/status/", "", False),
        ("/admin/", "Token abc", False),
        ("/apix/", "Token abc", False),
    ],
)
def test_only_a_token_api_request_skips_the_browser_middleware(path, authorization, skipped):
    request = (
        RequestFactory().get(path, HTTP_AUTHORIZATION=authorization) if authorization else RequestFactory().get(path)
    )
    assert is_token_api_request(request) is skipped


def test_a_token_look_up_carries_no_session_or_csrf_cookie_and_a_browser_page_still_does(world, client):
    world.person(IDN)
    r = world.gate.get(STATUS, {"id_type": "resident_id", "id_number": IDN})
    assert r.status_code == 200 and not r.cookies
    assert r["Cache-Control"] == "no-store" and r["X-Frame-Options"] == "DENY"
    page = client.get("/admin/login/")
    assert page.status_code == 200 and "csrftoken" in page.cookies
    assert "Content-Security-Policy" in page


def test_a_logged_in_session_still_reaches_the_api_through_the_browser_middleware(world, client):
    client.force_login(world.personas.user("cdc_1"))
    assert client.get("/api/v1/ping/").status_code == 200
    assert client.get("/api/v1/ping/", HTTP_AUTHORIZATION="Token not-a-token").status_code == 401


def test_a_staff_token_look_up_is_still_logged_and_a_partner_one_is_not(world):
    world.person(IDN)
    assert world.gate.get(STATUS, {"id_type": "resident_id", "id_number": IDN}).status_code == 200
    assert AccessLog.objects.count() == 0
    assert world.cdc.get(STATUS, {"id_type": "resident_id", "id_number": IDN, "why": " 流调 "}).status_code == 200
    entry = AccessLog.objects.get()
    assert entry.actor == world.personas.user("cdc_1") and entry.why == "流调"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"id_type": "resident_id", "id_number": f" {IDN} "}, {"id_number": IDN, "proxy": False, "why": ""}),
        ({"id_type": "resident_id", "id_number": IDN, "proxy": "1"}, {"proxy": True}),
        ({"id_type": "resident_id", "id_number": IDN, "proxy": "false"}, {"proxy": False}),
        ({"id_type": "resident_id", "id_number": IDN, "why": "x "}, {"why": "x"}),
    ],
)
def test_the_look_up_query_is_read_as_the_serializer_reads_it(params, expected):
    query = status_query(params)
    assert {key: query[key] for key in expected} == expected


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"id_type": "resident_id"}, "id_number"),
        ({"id_number": IDN}, "id_type"),
        ({"id_type": "resident_id", "id_number": "  "}, "id_number"),
        ({"id_type": "resident_id", "id_number": IDN, "proxy": "maybe"}, "proxy"),
    ],
)
def test_a_bad_look_up_query_names_its_field_as_before(world, params, field):
    r = world.gate.get(STATUS, params)
    assert r.status_code == 400 and list(r.json()) == [field], r.content


def test_an_unknown_person_is_404_and_a_malformed_id_400(world):
    assert world.gate.get(STATUS, {"id_type": "resident_id", "id_number": rid("11010519900101124")}).status_code == 404
    assert world.gate.get(STATUS, {"id_type": "resident_id", "id_number": "110105"}).status_code == 400


def test_person_by_id_reads_everyone_in_one_statement_and_a_restricted_queryset_through_the_orm(
    world, django_assert_num_queries, monkeypatch
):
    ref = world.person(IDN, community="CA")
    if connection.vendor == "postgresql":  # on psycopg's connection itself: not in Django's query log
        connection.ensure_connection()
        sent, execute = [], connection.connection.execute
        monkeypatch.setattr(connection.connection, "execute", lambda *a, **k: sent.append(a[0]) or execute(*a, **k))
        with django_assert_num_queries(0):
            person = person_by_id(id_type="resident_id", id_number=IDN)
        assert len(sent) == 1 and "id_hash" in sent[0]
    else:
        with django_assert_num_queries(1):
            person = person_by_id(id_type="resident_id", id_number=IDN)
    assert person.ref == ref and person.display_id and person.birth_date
    assert person == Person.objects.get(ref=ref)
    unseen = Person.objects.visible_to(world.personas.user("worker_b"))
    assert person_by_id(id_type="resident_id", id_number=IDN, queryset=unseen) is None
    seen = Person.objects.visible_to(world.personas.user("worker_a"))
    assert person_by_id(id_type="resident_id", id_number=IDN, queryset=seen) == person
    assert person_by_id(id_type="resident_id", id_number=IDN, queryset=Person.objects.none()) is None


FORCE_DRF = {"HTTP_ACCEPT": "application/json; q=0.9"}  # not the lean path's plain Accept: DRF answers


@pytest.mark.parametrize(
    "number",
    [IDN, rid("11010519900101124"), "110105"],
    ids=["found", "unknown", "malformed"],
)
def test_the_lean_path_answers_as_the_drf_view_does(world, number):
    world.person(IDN)
    params = {"id_type": "resident_id", "id_number": number}
    lean, drf = world.gate.get(STATUS, params), world.gate.get(STATUS, params, **FORCE_DRF)
    assert lean.status_code == drf.status_code
    assert lean.json() == {**drf.json(), **({"valid_until": lean.json()["valid_until"]} if "ref" in drf.json() else {})}
    for header in ("Content-Type", "Allow", "Vary", "Cache-Control", "Content-Language"):
        assert lean.get(header) == drf.get(header), header


def test_the_lean_path_refuses_a_proxy_look_up_and_throttles_as_the_drf_view(world, settings):
    world.person(IDN)  # born 1990: no proxy look-up
    params = {"id_type": "resident_id", "id_number": IDN, "proxy": "1"}
    lean, drf = world.gate.get(STATUS, params), world.gate.get(STATUS, params, **FORCE_DRF)
    assert lean.status_code == drf.status_code == 403 and lean.json() == drf.json()
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "status": "1/m"}
    first, throttled = world.gate.get(STATUS, {"id_type": "resident_id", "id_number": IDN}), None
    throttled = world.gate.get(STATUS, {"id_type": "resident_id", "id_number": IDN})
    drf_throttled = world.gate.get(STATUS, {"id_type": "resident_id", "id_number": IDN}, **FORCE_DRF)
    assert first.status_code in (200, 429) and throttled.status_code == drf_throttled.status_code == 429
    assert throttled.json().keys() == drf_throttled.json().keys() == {"detail"}
    assert int(throttled["Retry-After"]) > 0 and throttled["Content-Type"] == "application/json"
