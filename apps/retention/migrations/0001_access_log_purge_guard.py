"""The access log is append-only like the rest of the audit, except that the retention purge may
delete look-ups past their retention period (SPEC §7; apps.retention.services): on PostgreSQL its
trigger refuses UPDATE always and DELETE outside a purge transaction."""

from django.db import migrations

from apps.core.db import append_only_operation


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_guard")]

    operations = [append_only_operation("audit_accesslog", purgeable=True)]
