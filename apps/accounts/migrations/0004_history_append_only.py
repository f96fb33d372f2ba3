"""Row history is append-only (SPEC §5): the database refuses UPDATE and DELETE of its rows
(apps.core.db)."""

from django.db import migrations

from apps.core.db import append_only_operation


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_token_replaced_at")]

    operations = [
        append_only_operation("accounts_historicalorganisation"),
        append_only_operation("accounts_historicaluser"),
        append_only_operation("accounts_historicalpartnersystem"),
    ]
