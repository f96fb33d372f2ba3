"""Row history is append-only (SPEC §5): the database refuses UPDATE and DELETE of its rows
(apps.core.db). The retention purge may blank the phone link of a telecom stay's history, or
delete it, through its function only (apps.retention.db)."""

from django.db import migrations

from apps.core.db import append_only_operation


class Migration(migrations.Migration):
    dependencies = [("evidence", "0004_ingestion_payload_index")]

    operations = [
        append_only_operation("evidence_historicalstay", purgeable=True, erasable=("phone_hash", "person_id")),
        append_only_operation("evidence_historicallabresult"),
        append_only_operation("evidence_historicalhealthevent"),
        append_only_operation("evidence_historicalinboundarrival"),
        append_only_operation("evidence_historicalobservationorder"),
        append_only_operation("evidence_historicalassociation"),
        append_only_operation("evidence_historicalitinerarydeclaration"),
    ]
