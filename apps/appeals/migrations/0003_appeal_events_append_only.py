"""Appeal events and the appeal's row history are append-only (SPEC §5): the database refuses
UPDATE and DELETE of their rows (apps.core.db). The retention purge may blank the caller's phone
in the history of a closed appeal, through its function only (apps.retention.db)."""

from django.db import migrations

from apps.core.db import append_only_operation


class Migration(migrations.Migration):
    dependencies = [("appeals", "0002_routing_basis")]

    operations = [
        append_only_operation("appeals_appealevent"),
        append_only_operation("appeals_historicalappeal", erasable=("caller_phone_encrypted", "caller_phone_display")),
    ]
