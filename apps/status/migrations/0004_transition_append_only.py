"""Status transitions are append-only: the restrictions feed of rail and air reads them from any
cursor. The database refuses UPDATE and DELETE of their rows (apps.core.db)."""

from django.db import migrations

from apps.core.db import append_only_operation


class Migration(migrations.Migration):
    dependencies = [("status", "0003_dirty_partial_index")]

    operations = [
        append_only_operation("status_statustransition"),
    ]
