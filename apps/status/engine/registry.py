"""The popups, one definition each, collected from the rule modules (SPEC §2).

Every module of `apps.status.engine.rules` that declares `POPUP = PopupDefinition(...)` is a
popup's rule; the other modules with an `evaluate` (the colours) are rules too. The engine, the
status API, the admin, the work queue and the screens read the popups here:

    POPUPS              {number: PopupDefinition}, in number order
    popup(number)       one definition (KeyError for a number no module declares)
    numbers()           (1, 2, 3, 4, 5)
    manual_numbers()    the popups staff may also release by hand (SPEC §5)
    queued_numbers()    the popups on the community's work queue for verification
    number_choices()    choices of a model field holding a popup number
    RULES               every rule module, the popups' in number order, then the others
"""

import importlib
import pkgutil
from types import ModuleType

from . import rules as _rules_package
from .definition import PopupDefinition, circled


def _discover() -> tuple[dict[int, PopupDefinition], tuple[ModuleType, ...], dict[int, ModuleType]]:
    popups: dict[int, PopupDefinition] = {}
    modules: dict[int, ModuleType] = {}
    others: list[ModuleType] = []
    for info in sorted(pkgutil.iter_modules(_rules_package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{_rules_package.__name__}.{info.name}")
        definition = getattr(module, "POPUP", None)
        if definition is None:
            if callable(getattr(module, "evaluate", None)):
                others.append(module)
            continue
        if not isinstance(definition, PopupDefinition):
            raise TypeError(f"{module.__name__}.POPUP is not a PopupDefinition")
        if definition.number in popups:
            raise ValueError(
                f"popup {definition.number} is declared twice: {modules[definition.number].__name__}, {module.__name__}"
            )
        if any(d.key == definition.key for d in popups.values()):
            raise ValueError(f"two popups have the key {definition.key!r}")
        popups[definition.number] = definition
        modules[definition.number] = module
    order = sorted(popups)
    return (
        {n: popups[n] for n in order},
        tuple(modules[n] for n in order) + tuple(others),
        {n: modules[n] for n in order},
    )


POPUPS, RULES, MODULES = _discover()


def popup(number: int) -> PopupDefinition:
    return POPUPS[int(number)]


def numbers() -> tuple[int, ...]:
    return tuple(POPUPS)


def manual_numbers() -> frozenset[int]:
    return frozenset(n for n, d in POPUPS.items() if d.released_manually)


def queued_numbers() -> tuple[int, ...]:
    return tuple(n for n, d in POPUPS.items() if d.queued)


def number_choices() -> list[tuple[int, str]]:
    """`[(1, "1"), …]`: the popup numbers as a model field's choices."""
    return [(n, str(n)) for n in POPUPS]


__all__ = [
    "MODULES",
    "POPUPS",
    "RULES",
    "PopupDefinition",
    "circled",
    "manual_numbers",
    "number_choices",
    "numbers",
    "popup",
    "queued_numbers",
]
