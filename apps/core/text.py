"""Text the database cannot store, found wherever it comes in.

Two kinds of character never reach a column: a NUL (PostgreSQL refuses it in every text and
`jsonb` value) and a lone surrogate (`"\\udfff"` in JSON: half of a UTF-16 pair, no character at
all, which cannot even be encoded as UTF-8). Both arrive only from a client that means harm or is
broken. They are refused as input, naming the field, before any serializer, service or query sees
them: per record in a feed batch (the batch's other records are kept), for the whole request
elsewhere (`apps.core.api.BaseAPIView`), and as a 400 page on the staff screens
(`apps.core.middleware`).
"""

import re

from django.utils.translation import gettext_lazy as _

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE_MESSAGE = _("This text holds a character that cannot be stored (a NUL or half of a surrogate pair).")
# A body full of bad strings is refused as well by its first few.
MAX_REPORTED = 20


def is_storable(text: str) -> bool:
    return UNSTORABLE.search(text) is None


def _shown(key) -> str:
    """A key as it can be named in an error (itself storable: escapes instead of the bad characters)."""
    key = str(key)
    return key if is_storable(key) else key.encode("unicode_escape").decode("ascii")


def unstorable_text_errors(value, path: str = "") -> dict[str, list[str]]:
    """`{"field": [message]}` for every string in `value` (JSON-like: dicts, lists, strings, and a
    QueryDict's lists) that cannot be stored, named by its path (`person.name`, `places[0].note`); a
    key that cannot be stored is named escaped. Walked without recursion: depth is the parser's limit."""
    errors: dict[str, list[str]] = {}
    stack = [(path, value)]
    while stack and len(errors) < MAX_REPORTED:
        where, node = stack.pop()
        if isinstance(node, str):
            if not is_storable(node):
                errors[where or "detail"] = [str(UNSTORABLE_MESSAGE)]
            continue
        if hasattr(node, "lists") and callable(node.lists):
            # A QueryDict (a form or multipart body): each value is named like its field.
            items = [(key, item) for key, values in node.lists() for item in values]
        elif isinstance(node, dict):
            items = list(node.items())
        elif isinstance(node, list | tuple):
            stack.extend((f"{where}[{index}]", node[index]) for index in range(len(node) - 1, -1, -1))
            continue
        else:
            continue
        for key, item in reversed(items):
            name = f"{where}.{_shown(key)}" if where else _shown(key)
            if isinstance(key, str) and not is_storable(key):
                errors[name] = [str(UNSTORABLE_MESSAGE)]
            else:
                stack.append((name, item))
    return errors
