"""The API's request parsers (REST_FRAMEWORK DEFAULT_PARSER_CLASSES). A module of its own: DRF
imports its parsers while `rest_framework.views` loads, before `apps.core.api` could be."""

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


def json_depth(value) -> int:
    """How deeply arrays and objects nest in a parsed JSON value (a scalar: 0), without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


class DepthLimitedJSONParser(JSONParser):
    """DRF's JSON parser, refusing JSON nested deeper than `API_JSON_MAX_DEPTH` arrays and objects
    (API.md: 400 with a `detail` naming the limit). Python's own parser gives up past about 1,000
    levels with a RecursionError (a 500), and a deep value that it did read would overflow whatever
    walks it next (a serializer, the encryption of the batch kept as received)."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_JSON_MAX_DEPTH
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            too_deep = True
        else:
            too_deep = json_depth(data) > limit
        if too_deep:
            raise ParseError(
                _("JSON nested deeper than the limit of %(limit)d levels (arrays and objects).") % {"limit": limit}
            )
        return data
