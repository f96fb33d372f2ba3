"""The restrictions feed in O(page) (issue 16): a partial index on `(state_since, person_id)` of
the statuses not green, the `restricted` list's own order, so each page is a range scan of it
from the cursor instead of a sort of every non-green row. Depends on both 0004 migrations (the
transitions' guard and the status table's upkeep), which also makes it the one leaf.

On PostgreSQL the index is built CONCURRENTLY (outside a transaction): the status table is the
read path of every look-up and a plain CREATE INDEX would block its writes for the whole build."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class AddIndexConcurrentlyOnPostgres(AddIndexConcurrently):
    """CREATE INDEX CONCURRENTLY on PostgreSQL, a plain CREATE INDEX elsewhere (SQLite)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("status", "0004_status_table_hot"), ("status", "0004_transition_append_only")]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="personstatus",
            index=models.Index(
                fields=["state_since", "person"], name="status_restricted", condition=~models.Q(state="green")
            ),
        ),
    ]
