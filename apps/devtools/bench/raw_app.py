"""The floor of the `status_read` bench: a plain WSGI app on psycopg doing only what a status
look-up must do, served by the same gunicorn settings as the portal (`gunicorn
apps.devtools.bench.raw_app:application`).

Per request: the token's SHA-256 digest looked up (not revoked, not expired, its user active), the
ID number validated and HMAC-ed exactly as `apps.people` does (`validate_id`, `id_lookup_key`,
`apps.core.crypto.lookup_hash`), the person and their status row read in one indexed SELECT, and
a JSON answer. No framework, no ORM, no middleware, one connection per worker process and both
statements prepared: what is left of the portal's cost above this is the price of Django, DRF and
the rules this floor does not keep (throttling, popups' texts, recomputation of a dirty row).
`GET /api/v1/ping/` answers after the token check alone.

Django is set up once at import, for the settings (the key, the database) and the ID rules; it
plays no part in a request."""

import datetime as dt
import hashlib
import json
import os
import threading
from urllib.parse import parse_qs

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
django.setup()

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.exceptions import ValidationError  # noqa: E402

from apps.core.crypto import lookup_hash  # noqa: E402
from apps.people.identity import id_lookup_key, validate_id  # noqa: E402

TOKEN_SQL = (
    "SELECT u.id FROM accounts_apitoken t JOIN accounts_user u ON u.id = t.user_id "
    "WHERE t.digest = %s AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now()) "
    "AND u.is_active"
)
STATUS_SQL = (
    "SELECT p.ref, p.display_name, p.display_id, s.state, s.state_since, s.computed_at, s.next_change_at "
    "FROM people_person p JOIN status_personstatus s ON s.person_id = p.id WHERE p.id_hash = %s"
)
COLOUR = {"green": "green", "yellow": "yellow", "red": "red", "popup": "none"}
FAR_FUTURE = dt.date(9999, 12, 31)
_local = threading.local()


def _connection() -> psycopg.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        db = settings.DATABASES["default"]
        conn = psycopg.connect(
            host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], dbname=db["NAME"], password=db["PASSWORD"],
            autocommit=True, prepare_threshold=0,
        )  # fmt: skip
        _local.conn = conn
    return conn


def _answer(start_response, status: str, body: dict):
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def application(environ, start_response):
    scheme, _sep, key = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
    conn = _connection()
    if scheme != "Token" or not key:
        return _answer(start_response, "401 Unauthorized", {"detail": "No token."})
    digest = hashlib.sha256(key.strip().encode()).hexdigest()
    if conn.execute(TOKEN_SQL, [digest]).fetchone() is None:
        return _answer(start_response, "401 Unauthorized", {"detail": "Invalid or revoked token."})
    path = environ.get("PATH_INFO", "")
    if path == "/api/v1/ping/":
        return _answer(start_response, "200 OK", {"ok": True})
    if path != "/api/v1/status/":
        return _answer(start_response, "404 Not Found", {"detail": "Not found."})
    query = parse_qs(environ.get("QUERY_STRING", ""))
    id_type = (query.get("id_type") or [""])[0]
    try:
        number = validate_id(id_type, (query.get("id_number") or [""])[0], today=FAR_FUTURE)
    except ValidationError as exc:
        return _answer(start_response, "400 Bad Request", {"detail": " ".join(exc.messages)})
    row = conn.execute(STATUS_SQL, [lookup_hash(id_lookup_key(id_type, number))]).fetchone()
    if row is None:
        return _answer(start_response, "404 Not Found", {"detail": "No such person."})
    ref, name, display_id, state, since, computed_at, next_change_at = row
    return _answer(
        start_response,
        "200 OK",
        {
            "ref": ref,
            "display_name": name,
            "display_id": display_id,
            "state": state,
            "colour": COLOUR.get(state, "none"),
            "state_since": since.isoformat(),
            "valid_until": next_change_at.isoformat() if next_change_at else None,
            "computed_at": computed_at.isoformat(),
        },
    )
