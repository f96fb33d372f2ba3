"""Row history is append-only (SPEC §5): the database refuses UPDATE and DELETE of its rows
(apps.core.db)."""

from django.db import migrations

from apps.core.db import append_only_operation


class Migration(migrations.Migration):
    dependencies = [("areas", "0003_designation_ingestion")]

    operations = [
        append_only_operation("areas_historicalriskdesignation"),
        append_only_operation("areas_historicallocalcasereport"),
        append_only_operation("areas_historicalborderportcounty"),
        append_only_operation("areas_historicalpolicyversion"),
    ]
