"""Row history is append-only (SPEC §5): the database refuses UPDATE and DELETE of its rows
(apps.core.db)."""

from django.db import migrations

from apps.core.db import append_only_operation


class Migration(migrations.Migration):
    dependencies = [("casework", "0001_initial")]

    operations = [
        append_only_operation("casework_historicalcommunityregistration"),
    ]
