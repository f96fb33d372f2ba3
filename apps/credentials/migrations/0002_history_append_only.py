"""Row history is append-only (SPEC §5): the database refuses UPDATE and DELETE of the trust
list's history rows (apps.core.db), so what was trusted when cannot be rewritten."""

from django.db import migrations

from apps.core.db import append_only_operation


class Migration(migrations.Migration):
    dependencies = [("credentials", "0001_initial")]

    operations = [
        append_only_operation("credentials_historicaltrustedissuer"),
        append_only_operation("credentials_historicaltrustedkey"),
    ]
