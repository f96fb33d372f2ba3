"""Row history is append-only (SPEC §5): the database refuses UPDATE and DELETE of its rows
(apps.core.db). The retention purge may blank a phone number in it, through its function only
(apps.retention.db)."""

from django.db import migrations

from apps.core.db import append_only_operation


class Migration(migrations.Migration):
    dependencies = [("people", "0002_retention_indexes")]

    operations = [
        append_only_operation("people_historicalperson"),
        append_only_operation("people_historicalphone", erasable=("number_encrypted", "number_hash")),
    ]
