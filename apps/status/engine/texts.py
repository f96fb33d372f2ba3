"""The texts the engine writes (a reason's summary and what clears it), kept translatable.

A rule never writes a sentence: it names a `Message` (a stable code and its English msgid, wrapped
in gettext_lazy, beside the rule) and gives its parameters. The result is a `Text`, stored as
`{"code": ..., "params": {...}}` (`as_json`) and rendered in the active language only when shown
(`render`, `str(text)`), so the status API and the person page show the Chinese of the catalogue
by default and English under `translation.override("en")`.

A parameter is a plain value (a number, a moment already formatted, an area's name), another
`Text` (a risk level, a drug class: translated too) or a tuple of them (joined as a list).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

MESSAGES: dict[str, "Message"] = {}


@dataclass(frozen=True)
class Text:
    """One message with its parameters, rendered when shown."""

    code: str
    params: tuple[tuple[str, Any], ...] = ()

    def as_json(self) -> dict:
        return {"code": self.code, "params": {name: _json(value) for name, value in self.params}}

    def __str__(self) -> str:
        return render(self.as_json())


@dataclass(frozen=True, eq=False)
class Message:
    """A text the engine may write: `code` is stored, `text` (gettext_lazy, `%(name)s`
    placeholders) is what the code renders as."""

    code: str
    text: Promise

    def __post_init__(self):
        if MESSAGES.setdefault(self.code, self) is not self:
            raise ValueError(f"two engine messages share the code {self.code!r}")

    def __call__(self, **params) -> Text:
        return Text(self.code, tuple((name, _frozen(value)) for name, value in params.items()))


_SEQUENCES = (list, tuple)
_PLAIN = (Text, str, int, float)  # tuples, not `Text | str | …`: a union is built on every call


def _frozen(value):
    if value is None or isinstance(value, _PLAIN):
        return value
    if isinstance(value, _SEQUENCES):
        return tuple(_frozen(v) for v in value)
    raise TypeError(f"an engine text takes plain values, texts or lists of them, not {type(value).__name__}")


def _json(value):
    if isinstance(value, Text):
        return value.as_json()
    if isinstance(value, tuple):
        return [_json(v) for v in value]
    return value


# A list of values, joined in the active language ("a, b, c"; in Chinese "a、b、c").
LIST = Message("list", _("%(items)s, %(item)s"))


def render(value) -> str:
    """The text of a stored value in the active language: a message (`{"code", "params"}`) with
    its parameters rendered first, a list joined, anything else as it is. A code no message has
    (written by another version of the engine) shows as the code; a sentence stored before texts
    were codes shows as stored."""
    if isinstance(value, Mapping) and "code" in value:
        message = MESSAGES.get(value["code"])
        if message is None:
            return str(value["code"])
        return fill(message.text, {name: render(v) for name, v in (value.get("params") or {}).items()})
    if isinstance(value, list | tuple):
        items = [render(v) for v in value]
        joined = items[0] if items else ""
        for item in items[1:]:
            joined = fill(LIST.text, {"items": joined, "item": item})
        return joined
    return "" if value is None else str(value)


class _Params(dict):
    """A placeholder no parameter fills (a text stored by another version of the engine) shows
    as `…` rather than failing the page."""

    def __missing__(self, key):
        return "…"


def fill(text, params: Mapping) -> str:
    """`text` (a lazy msgid) in the active language with its `%(name)s` placeholders filled."""
    return str(text) % _Params(params)
