"""The published OpenAPI schema and its browsable page (API.md)."""

from django.contrib.auth import get_user_model


def test_the_schema_lists_every_public_endpoint(client, db):
    r = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    for path in (
        "/api/v1/persons/",
        "/api/v1/status/",
        "/api/v1/persons/{ref}/status/",
        "/api/v1/persons/{ref}/popups/",
        "/api/v1/feeds/{feed}/",
        "/api/v1/risk-designations/",
        "/api/v1/border-port-counties/",
        "/api/v1/policy/",
        "/api/v1/itinerary-declarations/",
    ):
        assert path in paths, path


def test_the_docs_page_uses_local_assets(client, db):
    user = get_user_model().objects.create_superuser("root", password="x-very-long-password")
    client.force_login(user)
    r = client.get("/api/v1/docs/")
    assert r.status_code == 200
    body = r.content.decode()
    assert "swagger-ui" in body and "cdn.jsdelivr.net" not in body
