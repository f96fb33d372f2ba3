"""The status table kept small and fast (issue 17).

Every recomputation rewrites a row of `status_personstatus`; a fan-out rewrites a county's worth
at once. An update is HOT (heap-only: the new row version goes into the same page, no index entry
is written, and the old version is pruned without a VACUUM) only when the page has room and no
indexed column changed. So:

- `fillfactor = 80`: a fifth of each page left free for the next version of its rows. It applies to
  pages written from now on (a table already full keeps its packing until it is rewritten, e.g. by
  `VACUUM FULL` or pg_repack in a maintenance window).
- fewer indexes: `state` alone (and its `varchar_pattern_ops` twin) duplicated the prefix of
  `status_state_since`; `next_change_at` is now partial (only rows with a next change); the popup
  episodes' own `person_id` index duplicated the prefix of `popup_person_number`. (The releases'
  twin is kept: on SQLite altering the field remakes the table, which would drop its append-only
  trigger of 0002; it costs one entry per release, a table written by hand.)
- autovacuum of its own, not PostgreSQL's defaults (vacuum after 20% of a million rows changed):
  after 1% plus 1,000 rows, analyse after 2%, and a cost limit of 2,000 so a vacuum after a
  fan-out finishes in seconds rather than being throttled behind the default 200.

The storage parameters are PostgreSQL's (RunSQL, with reverse SQL restoring 0003's settings);
SQLite has none and skips them."""

from django.db import migrations, models

STATUS_TABLE_SET = (
    "ALTER TABLE status_personstatus SET (fillfactor = 80, autovacuum_vacuum_scale_factor = 0.01, "
    "autovacuum_vacuum_threshold = 1000, autovacuum_analyze_scale_factor = 0.02, "
    "autovacuum_vacuum_cost_limit = 2000)"
)
STATUS_TABLE_RESET = [
    "ALTER TABLE status_personstatus RESET (fillfactor, autovacuum_vacuum_threshold, autovacuum_vacuum_cost_limit)",
    # 0003's own settings, as they were before this migration.
    "ALTER TABLE status_personstatus SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02)",
]


class RunSQLOnPostgres(migrations.RunSQL):
    """RunSQL on PostgreSQL only: storage parameters mean nothing to SQLite."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [("status", "0003_dirty_partial_index")]

    operations = [
        migrations.AlterField(
            model_name="personstatus",
            name="state",
            field=models.CharField(
                choices=[
                    ("green", "未见异常 no abnormality"),
                    ("popup", "弹窗 popup"),
                    ("yellow", "居家观察 home observation"),
                    ("red", "集中观察 centralised observation"),
                ],
                default="green",
                max_length=10,
                verbose_name="state",
            ),
        ),
        migrations.AlterField(
            model_name="personstatus",
            name="next_change_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="next change at"),
        ),
        migrations.AddIndex(
            model_name="personstatus",
            index=models.Index(
                condition=models.Q(("next_change_at__isnull", False)),
                fields=["next_change_at"],
                name="status_next_change",
            ),
        ),
        migrations.AlterField(
            model_name="popup",
            name="person",
            field=models.ForeignKey(
                db_index=False,
                on_delete=models.deletion.CASCADE,
                related_name="popup_episodes",
                to="people.person",
                verbose_name="person",
            ),
        ),
        RunSQLOnPostgres(STATUS_TABLE_SET, reverse_sql=STATUS_TABLE_RESET),
    ]
