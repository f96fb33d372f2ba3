"""Errors of the API are JSON (API.md), also for a path no route matches; the admin keeps its
HTML page; an operation answers only the methods it documents."""

from rest_framework.test import APIClient


def test_a_path_no_route_matches_answers_json_under_the_api_only(world):
    c = world.gate
    r = c.get("/api/v1/persons/a/b/status/")
    assert r.status_code == 404 and r["Content-Type"] == "application/json"
    assert r.json()["detail"]
    r = APIClient().get("/api/v1/no-such-thing/")
    assert r.status_code == 404 and r.json()["detail"]
    page = APIClient().get("/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")


def test_rotating_and_revoking_a_token_take_post_only(world):
    c = world.gate
    assert c.get("/api/v1/tokens/current/rotate/").status_code == 405
    assert c.get("/api/v1/tokens/current/revoke/").status_code == 405
    assert c.get("/api/v1/tokens/current/").status_code == 200
