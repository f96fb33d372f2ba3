"""apps.policy stands apart from the divisions (issue 13): its models kept the tables of the areas
app (no data moved), their history stays append-only, a designation reaches the status engine
through its door, the roles' permissions name the new label, and the divisions import nothing of
the policy."""

import ast
import datetime as dt
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from apps.accounts.access import ROLE_MODEL_PERMISSIONS
from apps.accounts.choices import Role
from apps.areas.models import Area
from apps.core import doors
from apps.policy.models import BorderPortCounty, LocalCaseReport, PolicyVersion, RiskDesignation
from apps.policy.services import border_port_publish, policy_publish, risk_designation_publish
from apps.status import services as status_services

MOVED = (RiskDesignation, LocalCaseReport, BorderPortCounty, PolicyVersion)
T = dt.datetime(2022, 5, 1, tzinfo=dt.UTC)
AREAS_APP = Path(apps.get_app_config("areas").path)


@pytest.fixture
def county(db):
    """北京市朝阳区, of the divisions loaded once per test database (tests/conftest.py)."""
    return Area.objects.get(code="110105")


@pytest.fixture
def fanouts(monkeypatch):
    """The county codes the status fan-out door was called with (answered by apps.status)."""
    calls = []
    monkeypatch.setattr(doors.status_fanout_areas, "_fn", lambda *, county_codes: calls.append(county_codes) or 0)
    return calls


@pytest.mark.parametrize("model", MOVED, ids=lambda m: m.__name__)
def test_each_moved_model_keeps_the_table_it_had_in_the_areas_app(db, model):
    name = model._meta.model_name
    assert model._meta.app_label == "policy"
    assert model._meta.db_table == f"areas_{name}"
    assert model.history.model._meta.db_table == f"areas_historical{name}"
    assert model.history.model._meta.app_label == "policy"
    tables = set(connection.introspection.table_names())
    assert {f"areas_{name}", f"areas_historical{name}"} <= tables
    assert not {f"policy_{name}", f"policy_historical{name}"} & tables


def test_the_history_tables_keep_their_append_only_guard(db):
    history = {f"areas_historical{m._meta.model_name}" for m in MOVED}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE t.tgname LIKE %s AND NOT t.tgisinternal",
                ["%append_only"],
            )
        else:
            cursor.execute("SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%append_only'")
        guarded = {row[0] for row in cursor.fetchall()}
    assert history <= guarded


def test_a_designations_history_row_cannot_be_rewritten(county, fanouts):
    risk_designation_publish(actor=None, area_code=county.code, level="high", effective_from=T)
    with pytest.raises(IntegrityError), transaction.atomic():
        RiskDesignation.history.update(note="rewritten")
    assert RiskDesignation.history.get().note == ""


def test_the_status_app_opens_the_fanout_door():
    assert doors.status_fanout_areas.is_open
    assert doors.status_fanout_areas._fn is status_services.status_fanout_areas


def test_a_designation_and_a_border_port_fan_out_through_the_door(county, fanouts):
    risk_designation_publish(actor=None, area_code=county.code, level="medium", effective_from=T)
    border_port_publish(actor=None, area_code=county.code, effective_from=T)
    assert fanouts == [[county.code], [county.code]]


def test_a_refused_designation_knocks_on_no_door(county, fanouts):
    with pytest.raises(ValidationError) as refused:
        risk_designation_publish(actor=None, area_code="110100", level="high", effective_from=T)
    assert set(refused.value.message_dict) == {"area_code"}  # a city, not a county
    assert fanouts == []
    assert not RiskDesignation.objects.exists()


def test_a_published_designation_records_its_ingestion(county, fanouts):
    designation = risk_designation_publish(actor=None, area_code=county.code, level="high", effective_from=T)
    assert designation.ingestion.feed == "risk-designations"
    assert designation.ingestion.payload["area_code"] == county.code


def test_a_policy_version_keeps_the_parameters_it_was_not_given(db):
    version = policy_publish(actor=None, effective_from=T, lookback_days=7)
    assert (version.lookback_days, version.local_case_clear_days) == (7, 14)


def test_the_policy_administrator_is_given_the_policy_labels():
    perms = ROLE_MODEL_PERMISSIONS[Role.POLICY_ADMIN]
    assert {"policy.add_riskdesignation", "policy.add_policyversion", "policy.change_borderportcounty"} <= perms
    assert "areas.view_area" in perms
    everyone = set().union(*ROLE_MODEL_PERMISSIONS.values())
    stale = {p for p in everyone if p.split(".")[1].endswith(tuple(m._meta.model_name for m in MOVED))}
    assert all(p.startswith("policy.") for p in stale), stale


def test_every_permission_a_role_is_given_exists(db):
    """A label or model name that moved would leave a role with a permission no row has."""
    everyone = set().union(*ROLE_MODEL_PERMISSIONS.values())
    existing = {
        f"{app}.{codename}" for app, codename in Permission.objects.values_list("content_type__app_label", "codename")
    }
    assert everyone - existing == set()


def test_the_admin_pages_moved_to_the_policy_label(client, django_user_model, county):
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.org", "pw"))
    assert reverse("admin:policy_riskdesignation_changelist") == "/admin/policy/riskdesignation/"
    assert client.get("/admin/policy/riskdesignation/").status_code == 200
    assert client.get("/admin/policy/policyversion/add/").status_code == 200
    assert client.get("/admin/areas/area/").status_code == 200
    assert client.get("/admin/areas/riskdesignation/").status_code == 404


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_the_divisions_import_nothing_above_them():
    """apps.areas may import core, accounts and audit, never the policy or any layer above it
    (also not inside a function)."""
    allowed = ("apps.areas", "apps.core", "apps.accounts", "apps.audit")
    offending = {
        f"{path.relative_to(AREAS_APP)}: {module}"
        for path in AREAS_APP.rglob("*.py")
        for module in _imports(path)
        if module.startswith("apps.") and not module.startswith(allowed)
    }
    assert offending == set()
