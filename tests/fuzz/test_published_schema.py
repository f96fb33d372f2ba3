"""The published OpenAPI schema itself: valid OpenAPI 3, generated without warnings, and telling
partners the errors every operation can give (API.md "Errors are JSON")."""

import schemathesis
from django.core.management import call_command
from drf_spectacular.validation import validate_schema


def published(client) -> dict:
    r = client.get("/api/v1/schema/?format=json")
    assert r.status_code == 200
    return r.json()


def test_it_is_valid_openapi_3(client, db):
    schema = published(client)
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)  # drf-spectacular's check against the OpenAPI 3 JSON schema
    schemathesis.openapi.from_dict(schema).validate()  # and schemathesis' own


def test_it_is_generated_without_warnings(tmp_path):
    # A warning is a part of the schema drf-spectacular had to guess: an unknown field type, a
    # view without a serializer, two components with one name.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))


def test_every_operation_documents_its_errors(client, db):
    schema = published(client)
    error = {"$ref": "#/components/schemas/Error"}
    invalid = {"$ref": "#/components/schemas/ValidationError"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            expected = {"400": invalid, "401": error, "403": error, "429": error}
            if "{" in path:
                expected["404"] = error
            if method in ("post", "put", "patch"):
                expected["415"] = error
            for code, body in expected.items():
                assert code in responses, (method, path, code)
                assert responses[code]["content"]["application/json"]["schema"] == body, (method, path, code)
    assert schema["components"]["schemas"]["Error"]["required"] == ["detail"]
