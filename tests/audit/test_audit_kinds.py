"""Audit kinds and origins as choices (issue 13 part 4): every kind a service writes is an
`AuditKind`, written as a member (never a string); the origin of an event is the request's,
task's or command's without the caller passing it; the auditor's admin filters the audit by
kind, actor, organisation and dates."""

import ast
import io
import re
from pathlib import Path

import pytest
import time_machine
from celery import shared_task
from django.core.management import call_command
from django.test import Client
from django.utils import translation

from apps.accounts.models import Organisation, User
from apps.audit.choices import AccessVia, AuditKind, Origin
from apps.audit.models import AuditEvent
from apps.audit.services import access_log_record, audit_event_record
from apps.core.origin import current_origin, origin
from tests.api.helpers import CHAOYANG, at, iso, last_line, rid

APPS = Path(__file__).resolve().parents[2] / "apps"
# The calls that write an audit event, and where their kind is (keyword, or position).
WRITERS = {"audit_event_record": None, "_audit": 0, "AuditEvent": None}
T = at(2021, 7, 28, 10)


# --- every kind written is a member -------------------------------------------------------------


def _sources():
    for path in sorted(APPS.rglob("*.py")):
        if "migrations" not in path.parts:
            yield path, ast.parse(path.read_text(), filename=str(path))


def _name(func) -> str:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _member(node) -> bool:
    """`AuditKind.MEMBER` (or a choice between two of them)."""
    if isinstance(node, ast.IfExp):
        return _member(node.body) and _member(node.orelse)
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "AuditKind"
        and node.attr in AuditKind.__members__
    )


def _kind_written(tree):
    """(line, kind expression) of every call writing an audit event in this module, with the
    module's constants and the parameters a writer forwards (`kind=kind`) resolved."""
    constants = {
        target.id: node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    for func in ast.walk(tree):
        if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        params = {a.arg for a in func.args.args + func.args.kwonlyargs}
        for call in ast.walk(func):
            if not isinstance(call, ast.Call) or _name(call.func) not in WRITERS:
                continue
            position = WRITERS[_name(call.func)]
            kind = next((k.value for k in call.keywords if k.arg == "kind"), None)
            if kind is None and position is not None and len(call.args) > position:
                kind = call.args[position]
            if kind is None:
                continue
            forwarded = kind.args[0] if isinstance(kind, ast.Call) and _name(kind.func) == "AuditKind" else kind
            if isinstance(forwarded, ast.Name) and forwarded.id in params and func.name in WRITERS:
                continue  # a writer forwarding its own `kind`: its callers are checked
            if isinstance(kind, ast.Name) and kind.id in constants:
                kind = constants[kind.id]
            table = kind.value if isinstance(kind, ast.Subscript) else None
            if isinstance(table, ast.Name) and isinstance(constants.get(table.id), ast.Dict):
                for value in constants[table.id].values:  # a module's table of kinds, looked up
                    yield call.lineno, value
                continue
            yield call.lineno, kind


def test_every_audit_event_a_service_writes_names_an_audit_kind_member():
    writes, wrong = 0, []
    for path, tree in _sources():
        for line, kind in _kind_written(tree):
            writes += 1
            if not _member(kind):
                wrong.append(f"{path.relative_to(APPS.parent)}:{line}: {ast.unparse(kind)}")
    assert writes >= 25, "the scan finds the call sites"
    assert not wrong, "write AuditKind members:\n" + "\n".join(wrong)


def test_every_audit_kind_is_written_somewhere():
    used = set()
    for _path, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "AuditKind":
                used.add(node.attr)
    assert set(AuditKind.__members__) - used == set(), "a kind no service writes"


def test_the_scan_sees_a_string_kind():
    tree = ast.parse('def f(actor):\n    audit_event_record(kind="popup.released", actor=actor)\n')
    assert [_member(kind) for _line, kind in _kind_written(tree)] == [False]
    tree = ast.parse(
        'KINDS = {"a": AuditKind.POPUP_RELEASED, "b": "order.started"}\n'
        "def f(actor, k):\n    audit_event_record(kind=KINDS[k], actor=actor)\n"
    )
    assert [_member(kind) for _line, kind in _kind_written(tree)] == [True, False]


def test_the_kinds_keep_the_strings_stored_and_have_labels():
    assert AuditKind.POPUP_RELEASED == "popup.released"
    assert AuditKind.APPEAL_RELEASED_ON_CALL == "appeal.released_on_call"
    assert all(re.fullmatch(r"[a-z_]+\.[a-z_]+", value) for value in AuditKind.values)
    assert all(str(label) and str(label) != value for value, label in AuditKind.choices)
    assert Origin.values == ["admin", "api", "task", "command"]


def test_a_kind_that_is_no_member_is_refused(db):
    with pytest.raises(ValueError):
        audit_event_record(kind="popup.relased", actor=None)
    assert not AuditEvent.objects.exists()


def test_every_via_of_a_look_up_is_a_member():
    vias = []
    for _path, tree in _sources():
        for call in ast.walk(tree):
            if isinstance(call, ast.Call) and _name(call.func) == "access_log_record":
                vias += [k.value for k in call.keywords if k.arg == "via"]
    assert len(vias) >= 5
    literals = {v.value for v in vias if isinstance(v, ast.Constant)}
    assert literals <= set(AccessVia.values)


def test_a_look_up_via_that_is_no_member_is_refused(world):
    from apps.people.models import Person

    ref = world.person(rid("11010519900101123"))
    user = User.objects.get(username="cdc_1")
    with pytest.raises(ValueError):
        access_log_record(actor=user, person=Person.objects.get(ref=ref), why="x", via="browser")


# --- the origin, from the context ----------------------------------------------------------------


def test_the_origin_is_the_api_outside_any_request_task_or_command_and_nested_blocks_win():
    assert current_origin() == Origin.API
    assert current_origin(default=Origin.TASK) == Origin.TASK
    with origin(Origin.ADMIN):
        assert current_origin() == Origin.ADMIN
        with pytest.raises(RuntimeError), origin(Origin.COMMAND):
            assert current_origin() == Origin.COMMAND
            raise RuntimeError
        assert current_origin() == Origin.ADMIN
    assert current_origin() == Origin.API


def _org_by_command(code: str = "CX") -> Organisation:
    last_line("create_org", code, "--kind", "community", "--name", "新社区", "--parent", "D105", "--area", CHAOYANG)
    return Organisation.objects.get(code=code)


def test_a_management_command_records_command(world):
    """`create_staff` issues a token: api_token.issued, written without an origin by the service."""
    _org_by_command()
    last_line("create_staff", "worker_x", "--role", "community_worker", "--org", "CX")
    issued = AuditEvent.objects.get(kind=AuditKind.API_TOKEN_ISSUED, detail__user="worker_x")
    assert issued.origin == Origin.COMMAND
    call_command("rotate_token", "worker_x", stdout=io.StringIO())
    assert AuditEvent.objects.get(kind=AuditKind.API_TOKEN_ROTATED).origin == Origin.COMMAND
    assert current_origin() == Origin.API, "the command's origin ends with it"


def test_an_api_call_records_api(world):
    with time_machine.travel(T, tick=False):
        world.designate(CHAOYANG, "medium", iso(2021, 7, 28, 0))
    event = AuditEvent.objects.get(kind=AuditKind.DESIGNATION_PUBLISHED)
    assert (event.actor.username, event.origin) == ("policy_1", "api")


def test_an_api_call_records_api_even_inside_an_admin_context(world):
    """The middleware sets the origin of each request from its path, whatever ran before."""
    with time_machine.travel(T, tick=False), origin(Origin.COMMAND):
        world.designate(CHAOYANG, "medium", iso(2021, 7, 28, 0))
    assert AuditEvent.objects.get(kind=AuditKind.DESIGNATION_PUBLISHED).origin == Origin.API


@shared_task
def _audited_task():
    audit_event_record(kind=AuditKind.LOGIN_UNLOCKED, actor=None, detail={"users": []})
    return str(current_origin())


def test_a_celery_task_records_task_and_the_caller_keeps_its_origin(db):
    """Run eagerly (`apply`), as tests and a broker-less set-up do: the task's signals still frame it."""
    with origin(Origin.ADMIN):
        assert _audited_task.apply().get() == "task"
        assert current_origin() == Origin.ADMIN
    assert AuditEvent.objects.get(kind=AuditKind.LOGIN_UNLOCKED).origin == Origin.TASK


def _auditor():
    last_line("create_staff", "auditor_k", "--role", "auditor", "--org", "CDC")
    c = Client()
    c.force_login(User.objects.get(username="auditor_k"))
    return c


def test_an_admin_post_records_admin(world):
    """The audit's CSV export writes audit.exported without passing an origin."""
    with time_machine.travel(T, tick=False):
        auditor = _auditor()
        ids = list(AuditEvent.objects.values_list("pk", flat=True))
        response = auditor.post("/admin/audit/auditevent/", {"action": "export_csv", "_selected_action": ids})
    assert response.status_code == 200
    event = AuditEvent.objects.get(kind=AuditKind.AUDIT_EXPORTED)
    assert (event.actor.username, event.origin) == ("auditor_k", "admin")


# --- the auditor's admin filters -----------------------------------------------------------------


@pytest.fixture
def events(world):
    """Events of three kinds, by two actors of two organisations, on three days (the auditor's
    session is of now: the list is read now)."""
    auditor = _auditor()
    worker, cdc = User.objects.get(username="worker_a"), User.objects.get(username="cdc_1")
    made = {}
    for day, kind, actor in [
        (26, AuditKind.POPUP_RELEASED, worker),
        (27, AuditKind.ORDER_STARTED, worker),
        (28, AuditKind.POPUP_RELEASED, cdc),
        (28, AuditKind.APPEAL_ROUTED, cdc),
    ]:
        with time_machine.travel(at(2021, 7, day, 23, 30), tick=False):
            made.setdefault(kind, []).append(audit_event_record(kind=kind, actor=actor, reason="x").pk)
    return auditor, made


def _listed(auditor, query: str) -> set[int]:
    response = auditor.get("/admin/audit/auditevent/?" + query)
    assert response.status_code == 200, response.status_code
    return {event.pk for event in response.context["cl"].result_list}


def test_the_audit_list_filters_by_kind(events):
    auditor, made = events
    assert _listed(auditor, "kind__exact=popup.released") == set(made[AuditKind.POPUP_RELEASED])
    assert _listed(auditor, "kind__exact=appeal.routed") == set(made[AuditKind.APPEAL_ROUTED])


def test_the_audit_list_filters_by_actor_and_organisation(events):
    auditor, made = events
    worker = User.objects.get(username="worker_a")
    mine = set(AuditEvent.objects.filter(actor=worker).values_list("pk", flat=True))
    assert len(mine) == 2
    assert _listed(auditor, f"actor__id__exact={worker.pk}") == mine
    cdc = Organisation.objects.get(code="CDC")
    theirs = _listed(auditor, f"actor_org__id__exact={cdc.pk}")
    assert theirs == set(AuditEvent.objects.filter(actor_org=cdc).values_list("pk", flat=True))
    assert set(made[AuditKind.APPEAL_ROUTED]) | {made[AuditKind.POPUP_RELEASED][1]} <= theirs
    assert not theirs & mine
    assert _listed(auditor, "actor__isnull=True") == set(
        AuditEvent.objects.filter(actor=None).values_list("pk", flat=True)
    )


def test_the_audit_list_filters_by_days_in_beijing_time(events):
    """23:30 in Beijing is the same day, whatever UTC says; "to" includes its day."""
    auditor, made = events
    on_the_27th = set(made[AuditKind.ORDER_STARTED])
    assert _listed(auditor, "at__gte=2021-07-27&at__lte=2021-07-27") == on_the_27th
    assert _listed(auditor, "at__gte=2021-07-28&at__lte=2021-07-28") == set(made[AuditKind.APPEAL_ROUTED]) | {
        made[AuditKind.POPUP_RELEASED][1]
    }
    # An empty input of the form is no bound.
    assert _listed(auditor, "at__gte=2021-07-27&at__lte=&kind__exact=popup.released") == {
        made[AuditKind.POPUP_RELEASED][1]
    }
    assert _listed(auditor, "at__lte=2021-07-26&kind__exact=popup.released") == {made[AuditKind.POPUP_RELEASED][0]}


def test_a_date_that_is_no_date_is_refused(events):
    auditor, _made = events
    response = auditor.get("/admin/audit/auditevent/?at__gte=yesterday")
    assert response.status_code == 302 and "e=1" in response["Location"]


def test_the_list_shows_the_kinds_label_and_offers_the_filters(events):
    auditor, _made = events
    response = auditor.get("/admin/audit/auditevent/")
    body = response.content.decode()
    with translation.override(response["Content-Language"]):
        released, routed = str(AuditKind.POPUP_RELEASED.label), str(AuditKind.APPEAL_ROUTED.label)
    assert f'<td class="field-kind">{released}</td>' in body
    assert f'<td class="field-kind">{routed}</td>' in body
    assert '<td class="field-kind">popup.released</td>' not in body
    assert "?kind__exact=popup.released" in body, "a filter link per kind"
    assert 'name="at__gte"' in body and 'name="at__lte"' in body
    filters = body.split('id="changelist-filter"')[1]
    assert "worker_a" in filters and "CDC" in filters, "the actors and organisations offered"


# --- the row history records the origin too ------------------------------------------------------


def test_history_rows_record_the_origin_of_their_change(world):
    """A command's history row (create_org), an API call's (a person and the stays of a feed, the
    bulk path), and an admin's (a change saved on the admin site)."""
    from apps.evidence.models import Stay
    from apps.people.models import Person
    from tests.api.helpers import RISK_COUNTY, stay

    org = _org_by_command()
    assert set(org.history.values_list("history_origin", flat=True)) == {"command"}
    idn = rid("11010519900101123")
    ref = world.person(idn)
    world.feed("stays", stay(idn, "G1", RISK_COUNTY, iso(2021, 7, 20, 8), iso(2021, 7, 22, 8)))
    assert set(Person.objects.get(ref=ref).history.values_list("history_origin", flat=True)) == {"api"}
    assert set(Stay.history.values_list("history_origin", flat=True)) == {"api"}
    root = User.objects.create_superuser("root", password="x-Very-long-pass-1")
    c = Client()
    c.force_login(root)
    with origin(Origin.COMMAND):  # the request's path decides, not what runs around it
        response = c.post(
            f"/admin/accounts/organisation/{org.pk}/change/",
            {
                "code": "CX",
                "kind": "community",
                "name": "新社区（改）",
                "area": org.area_id,
                "parent": org.parent_id,
                "is_active": "on",
            },
        )
    assert response.status_code == 302, response.content[:2000]
    latest = org.history.order_by("-history_id").first()
    assert (latest.name, latest.history_origin) == ("新社区（改）", "admin")


def test_a_history_row_inside_a_task_records_task(world):
    org = Organisation.objects.get(code="CB")

    @shared_task
    def rename():
        org.name = "另一社区（任务）"
        org.save()

    rename.apply()
    assert org.history.order_by("-history_id").first().history_origin == "task"


def test_every_command_of_the_project_runs_as_command():
    """Each management command of apps/ is apps.core.management.base.BaseCommand (the migrate
    wrapper, Django's own command, changes no audited row)."""
    from importlib import import_module

    from apps.core.management.base import BaseCommand

    names = sorted(
        f"apps.{p.parts[-4]}.management.commands.{p.stem}"
        for p in APPS.glob("*/management/commands/*.py")
        if p.stem != "__init__"
    )
    assert len(names) >= 10
    plain = [n for n in names if not issubclass(import_module(n).Command, BaseCommand)]
    assert plain == ["apps.core.management.commands.migrate"]


def test_every_row_history_records_the_origin():
    """Every model with row history uses apps.core.history's HistoricalRecords."""
    from django.apps import apps as registry

    historical = [m for m in registry.get_models() if m.__name__.startswith("Historical") and hasattr(m, "instance")]
    assert len(historical) >= 15
    assert [m.__name__ for m in historical if "history_origin" not in {f.name for f in m._meta.fields}] == []


def test_a_designation_published_through_the_api_has_an_api_history_row(world):
    from apps.policy.models import RiskDesignation

    with time_machine.travel(T, tick=False):
        world.designate(CHAOYANG, "medium", iso(2021, 7, 28, 0))
    assert set(RiskDesignation.history.values_list("history_origin", flat=True)) == {"api"}
