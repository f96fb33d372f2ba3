"""Logging filters (config/settings/base.py LOGGING)."""

import logging
import re

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
