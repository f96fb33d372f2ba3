"""Log lines never carry an ID number or a phone number (apps.core.logfilters.RedactPersonalNumbers
on every handler of LOGGING), and LOG_FORMAT=json writes one JSON object a line."""

import io
import json
import logging

import pytest
from django.conf import settings

from apps.core.logfilters import JsonFormatter, RedactPersonalNumbers, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("id 110105199001011234 seen", "id [id-number] seen"),
        ("id 11010519900101123X seen", "id [id-number] seen"),
        ("id 11010519900101123x", "id [id-number]"),
        ("old id 110105900101123", "old id [id-number]"),
        ("passport E12345678 at PEK", "passport [passport-number] at PEK"),
        ("permit H1234567", "permit [passport-number]"),
        ("call 13812345678", "call [phone]"),
        ("call +86 138-1234-5678.", "call [phone]."),
        ("call 86 138 1234 5678", "call [phone]"),
        ("desk 010-12345678", "desk [phone]"),
        ("id_number=110105199001011234&x=1", "id_number=[id-number]&x=1"),
    ],
)
def test_personal_numbers_are_redacted(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "person 12345 chunk of 500",
        "at 1764648000 (unix) and 1764648000123 (ms)",
        "2026-12-02T04:00:00+08:00",
        "a 16-digit 1234567890123456 and 14-digit 12345678901234 count",
        "19 digits 1101051990010112345",
        "12812345678 is no mobile prefix",
        "task 6f1c2a0e-9b7d-4c1e-8f0a-1b2c3d4e5f60",
        "county 110105, status v3",
    ],
)
def test_other_numbers_stay(text):
    assert redact(text) == text


def _logger(formatter) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(RedactPersonalNumbers())
    logger = logging.getLogger("tests.ops.redaction")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream


def test_arguments_extras_and_tracebacks_are_redacted_in_json_lines():
    logger, stream = _logger(JsonFormatter("%(levelname)s %(name)s %(message)s"))
    logger.info("looked up %s by %s", "110105199001011234", 13812345678, extra={"phone": "+86 13812345678"})
    try:
        raise ValueError("bad id_number 11010519900101123X")
    except ValueError:
        logger.exception("feed record %(n)s failed", {"n": "E12345678"})
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines[0]["message"] == "looked up [id-number] by [phone]"
    assert lines[0]["phone"] == "[phone]"
    assert lines[1]["message"] == "feed record [passport-number] failed"
    assert "bad id_number [id-number]" in lines[1]["exc_info"]
    text = stream.getvalue()
    for number in ("110105199001011234", "13812345678", "11010519900101123X", "E12345678"):
        assert number not in text


def test_numbers_of_other_kinds_in_arguments_are_kept_as_they_are():
    logger, stream = _logger(logging.Formatter("%(message)s"))
    logger.info("%d persons in %s, %r", 12, "chunk 3", [1, 2])
    assert stream.getvalue() == "12 persons in chunk 3, [1, 2]\n"


def test_every_handler_of_the_settings_redacts():
    handlers = settings.LOGGING["handlers"]
    assert handlers and all("redact" in h.get("filters", []) for h in handlers.values())
    assert settings.LOGGING["filters"]["redact"]["()"] == "apps.core.logfilters.RedactPersonalNumbers"
    assert settings.LOGGING["formatters"]["json"]["()"] == "apps.core.logfilters.JsonFormatter"
    assert settings.CELERY_WORKER_HIJACK_ROOT_LOGGER is False, "workers log through these handlers"


def test_an_object_in_an_extra_field_is_written_without_its_query_string_and_redacted():
    from django.test import RequestFactory

    logger, stream = _logger(JsonFormatter("%(message)s"))
    request = RequestFactory().get("/api/v1/status/", {"id_type": "resident_id", "id_number": "110105199001011234"})
    logger.warning("Not Found: %s", request.path, extra={"request": request, "status_code": 404})
    line = json.loads(stream.getvalue())
    assert line["request"] == "<WSGIRequest: GET '/api/v1/status/'>"
    assert line["status_code"] == 404
    assert "110105199001011234" not in stream.getvalue()


def test_djangos_own_loggers_write_through_the_redacting_handler():
    assert settings.LOGGING["loggers"]["django"]["handlers"] == ["console"]


def test_an_exception_or_other_object_as_message_or_argument_is_redacted():
    """`logger.warning("... %s", error)` is how a failure is logged: a database error's text quotes
    the row it refused (`Key (id_number)=(…) already exists`)."""
    logger, stream = _logger(logging.Formatter("%(message)s"))
    error = ValueError("Key (id_number)=(110105199001011234) already exists.")
    logger.warning("could not store: %s (%r)", error, error)
    logger.warning(error)
    logger.warning("%(error)s", {"error": error})
    logger.info("%d persons", 110105199001011234)  # a number that is an ID, formatted as a number
    lines = stream.getvalue().splitlines()
    assert lines[0] == (
        "could not store: Key (id_number)=([id-number]) already exists. "
        "(ValueError('Key (id_number)=([id-number]) already exists.'))"
    )
    assert lines[1:3] == ["Key (id_number)=([id-number]) already exists."] * 2
    assert lines[3] == "[id-number] persons"
    assert "110105199001011234" not in stream.getvalue()
