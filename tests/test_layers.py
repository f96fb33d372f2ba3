"""The layers (README: Layout; the import-linter contracts in pyproject.toml, run by `make lint`).

`lint-imports` checks the direction of every import. What it cannot see is checked here: that the
`interfaces` contract knows every kind of module (a new kind would otherwise be checked by
neither side of it), that every app of the project is placed in the layers, and that every door of
apps/core/doors.py is opened once the apps are ready (a lower layer calling a door nobody opened
raises, so a door without its opener is a broken feature, found here rather than in production)."""

import ast
import tomllib
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ImproperlyConfigured

from apps.core import doors

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS = {
    c["id"]: c for c in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
}
# Folders of an app that are not Python modules of its own layers (entry points, data, pages).
NOT_MODULES = {"migrations", "management", "templates", "data", "static", "__pycache__"}


def _tails(patterns: list[str]) -> set[str]:
    """`apps.*.services` → `services`."""
    assert all(p.startswith("apps.*.") and p.count(".") == 2 for p in patterns), patterns
    return {p.split(".")[2] for p in patterns}


def test_every_module_of_an_app_is_an_interface_or_a_checked_non_interface():
    interfaces = _tails([p for p in CONTRACTS["interfaces"]["forbidden_modules"] if p != "config"])
    checked = _tails(CONTRACTS["interfaces"]["source_modules"])
    assert not interfaces & checked
    devtools = ROOT / "apps" / "devtools"  # the top layer: nothing imports it, it may import anything
    unplaced = []
    for app in sorted(p for p in (ROOT / "apps").iterdir() if (p / "apps.py").exists() and p != devtools):
        for entry in sorted(app.iterdir()):
            name = entry.stem if entry.suffix == ".py" else entry.name
            if name in NOT_MODULES or name == "__init__" or (entry.is_dir() and not (entry / "__init__.py").exists()):
                continue
            if entry.suffix != ".py" and not entry.is_dir():
                continue
            if name not in interfaces | checked:
                unplaced.append(str(entry.relative_to(ROOT)))
    assert not unplaced, (
        "add each to the `interfaces` contract of pyproject.toml: to forbidden_modules if it is an "
        "interface (admin, API, template tags), else to source_modules"
    )


def _imported(node) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        return [node.module]
    return []  # a relative import stays inside its app


def test_no_import_inside_a_function_reaches_another_app():
    """An import inside a function hid the edges that pointed up (issue 13): evidence and policy
    into status, casework and appeals into each other, core's admin into four apps. The linter
    now sees those too, but an edge is read at the top of a module, so every import of another
    app is there (a lower layer that must reach a higher one calls a door)."""
    hidden = []
    for path in sorted((ROOT / "apps").rglob("*.py")):
        if "migrations" in path.parts:
            continue
        app = path.relative_to(ROOT / "apps").parts[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for inner in ast.walk(node):
                for name in _imported(inner):
                    parts = name.split(".")
                    if parts[0] == "apps" and len(parts) > 1 and parts[1] != app:
                        hidden.append(f"{path.relative_to(ROOT)}:{inner.lineno} {name}")
    assert sorted(set(hidden)) == []


def test_every_app_of_the_project_has_its_layer():
    layers = CONTRACTS["layers"]["layers"]
    placed = {name.strip(" ()") for layer in layers for name in layer.split("|")}
    ours = {c.name.split(".", 1)[1] for c in django_apps.get_app_configs() if c.name.startswith("apps.")}
    assert ours <= placed, ours - placed
    assert CONTRACTS["layers"]["layers"][0] == "devtools" and CONTRACTS["layers"]["layers"][-1] == "core"


def test_every_door_is_opened_by_the_app_above():
    found = {name: door for name, door in vars(doors).items() if isinstance(door, doors.Door)}
    assert {"status_mark_dirty", "status_fanout_areas", "casework_record_corrected"} <= set(found)
    assert [name for name, door in found.items() if not door.is_open] == []


def test_a_door_refuses_a_call_before_it_is_opened_and_a_second_opener():
    door = doors.Door("test.door", "a door for this test")
    with pytest.raises(ImproperlyConfigured, match="not opened"):
        door(x=1)

    def answer(**kwargs):
        return kwargs

    door.open(answer)
    door.open(answer)  # the same function again changes nothing
    assert door(x=1) == {"x": 1}
    with pytest.raises(ImproperlyConfigured, match="already opened"):
        door.open(lambda **kwargs: kwargs)
    assert door(x=2) == {"x": 2}
