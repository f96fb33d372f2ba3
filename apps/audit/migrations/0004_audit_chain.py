import django.db.models.deletion
from django.db import migrations, models

from apps.core.db import append_only_operation


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0003_kind_origin_choices"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditCheckpoint",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("size", models.BigIntegerField(db_index=True, verbose_name="size")),
                ("root", models.CharField(max_length=64, verbose_name="root")),
                ("at", models.DateTimeField(verbose_name="at")),
                ("signature", models.CharField(max_length=128, verbose_name="signature")),
                ("kid", models.CharField(max_length=32, verbose_name="key id")),
                ("frontier", models.JSONField(default=list, verbose_name="frontier")),
            ],
            options={
                "verbose_name": "audit checkpoint",
                "verbose_name_plural": "audit checkpoints",
                "ordering": ["-size", "-id"],
            },
        ),
        migrations.CreateModel(
            name="AuditLeaf",
            fields=[
                ("seq", models.BigIntegerField(primary_key=True, serialize=False, verbose_name="sequence number")),
                ("source", models.CharField(max_length=16, verbose_name="source")),
                ("row_id", models.BigIntegerField(verbose_name="row")),
                ("at", models.DateTimeField(verbose_name="at")),
                ("digest", models.CharField(max_length=64, verbose_name="row digest")),
                ("leaf_hash", models.CharField(max_length=64, verbose_name="leaf hash")),
            ],
            options={
                "verbose_name": "sealed audit row",
                "verbose_name_plural": "sealed audit rows",
                "ordering": ["seq"],
            },
        ),
        migrations.CreateModel(
            name="AuditLeafPurge",
            fields=[
                (
                    "leaf",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        primary_key=True,
                        related_name="purge",
                        serialize=False,
                        to="audit.auditleaf",
                        verbose_name="sealed audit row",
                    ),
                ),
                ("purged_at", models.DateTimeField(verbose_name="purged at")),
            ],
            options={
                "verbose_name": "purged audit row",
                "verbose_name_plural": "purged audit rows",
            },
        ),
        migrations.AddConstraint(
            model_name="auditleaf",
            constraint=models.UniqueConstraint(fields=("source", "row_id"), name="audit_leaf_source_row"),
        ),
        # The sealed audit is append-only like the rows it seals (apps.core.db); the retention purge
        # adds marks to audit_auditleafpurge from inside its SECURITY DEFINER function.
        append_only_operation("audit_auditleaf"),
        append_only_operation("audit_auditleafpurge"),
        append_only_operation("audit_auditcheckpoint"),
    ]
