"""The retention purge goes past the append-only guards only through SECURITY DEFINER functions
owned by the migration owner, which refuse rows younger than the retention periods
(apps.retention.db); the `healthkit.retention_purge` setting that used to let a DELETE through is
gone (every guard was re-installed with the new trigger function by the migrations this one
follows). Then the application role gets its privileges (apps.core.db.app_role_sync): rows only,
no UPDATE or DELETE on guarded tables; `migrate` gives them again after every run."""

from django.db import migrations

from apps.core.db import app_role_operation, append_only_operation


def functions_install(apps, schema_editor):
    from apps.retention.db import purge_functions_install

    purge_functions_install(schema_editor.connection)


def functions_remove(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for signature in (
        "healthkit_purge_access_log(bigint[], timestamptz)",
        "healthkit_purge_stay_history(bigint[], bigint[], timestamptz)",
        "healthkit_erase_phone_history(bigint[], timestamptz)",
        "healthkit_erase_appeal_history(bigint[], timestamptz)",
    ):
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {signature}")


class Migration(migrations.Migration):
    dependencies = [
        ("retention", "0001_access_log_purge_guard"),
        ("accounts", "0004_history_append_only"),
        ("areas", "0004_history_append_only"),
        ("people", "0003_history_append_only"),
        ("evidence", "0005_history_append_only"),
        ("status", "0004_transition_append_only"),
        ("casework", "0002_history_append_only"),
        ("hotels", "0004_history_append_only"),
        ("appeals", "0003_appeal_events_append_only"),
        ("audit", "0002_append_only_guard"),
    ]

    operations = [
        append_only_operation("audit_accesslog", purgeable=True),
        migrations.RunPython(functions_install, functions_remove, elidable=False),
        app_role_operation(),
    ]
