"""Logging filters (config/settings/base.py LOGGING)."""

import logging
import re

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

# A path's query string: from "?" up to the next space or quote (a request line is
# `GET /api/v1/status/?id_type=…&id_number=… HTTP/1.1`; an error message quotes it).
_QUERY = re.compile(r"(/[^\s?'\"]*)\?[^\s'\"]*")


def strip_query_strings(text: str) -> str:
    return _QUERY.sub(r"\1", text)


class StripQueryStrings(logging.Filter):
    """Takes query strings out of a log record's message and arguments, for every request: the
    development server's request log (django.server) would otherwise write a status look-up's ID
    number (`?id_number=…`) into the console and whatever collects it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = strip_query_strings(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(strip_query_strings(a) if isinstance(a, str) else a for a in record.args)
        return True


# Personal numbers that must never reach a log line (issue 17): 18-digit resident IDs (the last
# character may be X) and 15-digit ones of the old format; passport-like numbers (one or two
# letters and 7 to 9 digits: passports, Hong Kong and Macau permits); mobile numbers (with or
# without +86, spaces or hyphens) and landlines written with their area code and a hyphen.
# Not between other digits or letters, so ids, counts and timestamps stay readable.
_REDACTIONS = (
    (re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])"), "[id-number]"),
    (re.compile(r"(?<![0-9A-Za-z])[A-Za-z]{1,2}\d{7,9}(?![0-9A-Za-z])"), "[passport-number]"),
    (re.compile(r"(?<![\d+])(?:\+?86[- ]?)?1[3-9]\d(?:[- ]?\d{4}){2}(?!\d)"), "[phone]"),
    (re.compile(r"(?<!\d)0\d{2,3}-\d{7,8}(?!\d)"), "[phone]"),
)
# A record's own attributes: everything else in its __dict__ was passed as `extra=` (and goes into
# a JSON line as a field).
_RECORD_ATTRS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


def redact(text: str) -> str:
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


def _redacted(value):
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 10**10:  # a phone has 11 digits
        cleaned = redact(str(value))
        return value if cleaned == str(value) else cleaned
    if isinstance(value, (list, tuple, dict, set)):
        text = str(value)
        cleaned = redact(text)
        return value if cleaned == text else cleaned
    return value


class RedactPersonalNumbers(logging.Filter):
    """On every handler (config/settings/base.py LOGGING): ID numbers, passport-like numbers and
    phone numbers are replaced in the message, its arguments, the traceback and the extra fields
    of every record, whichever logger wrote it (a filter on the handler sees the records that
    propagate to it, a logger's filter would not)."""

    def filter(self, record: logging.LogRecord) -> bool:
        # The message as it will be written, redacted whole: an argument that is an exception or
        # any other object (`logger.warning("... %s", error)`, a database error quoting the row it
        # refused) is a number only once formatted, and `%d` or `%r` of one must still format.
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format: logging reports it; its arguments redacted
            record.msg = redact(record.msg) if isinstance(record.msg, str) else _redacted(record.msg)
            if isinstance(record.args, tuple):
                record.args = tuple(redact(str(a)) for a in record.args)
            elif isinstance(record.args, dict):
                record.args = {k: redact(str(v)) for k, v in record.args.items()}
        else:
            record.msg, record.args = redact(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for key, value in list(record.__dict__.items()):
            if key not in _RECORD_ATTRS:
                setattr(record, key, _extra(value))
        return True


def _extra(value):
    """An extra field: a JSON line writes an object as its str(), so anything but a plain value
    (django.request's `request`, whose repr holds the path with its query string) is written as
    that text, without query string and redacted."""
    if value is None or isinstance(value, (bool, int, float, str, list, tuple, dict, set)):
        return _redacted(value)
    return redact(strip_query_strings(str(value)))


class JsonFormatter(_JsonFormatter):
    """python-json-logger's, with the traceback and stack redacted too: it formats them from the
    exception itself, not from the `exc_text` RedactPersonalNumbers has cleaned."""

    def formatException(self, ei) -> str:  # noqa: N802 - logging's name
        return redact(super().formatException(ei))

    def formatStack(self, stack_info) -> str:  # noqa: N802
        return redact(super().formatStack(stack_info))
