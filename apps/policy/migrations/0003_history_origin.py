"""Row history records where each change came from (apps.core.history: `history_origin`, the
request's, task's or command's origin). A nullable column without a database default: added
without rewriting the table (SQLite adds the column in place, keeping the append-only triggers;
PostgreSQL changes only the catalogue), the rows written before it have none (NULL). The default
(the origin of the moment) is Python's, so only the model state carries it."""

from django.db import migrations, models

import apps.core.origin

CHOICES = [("admin", "admin site"), ("api", "API"), ("task", "background task"), ("command", "management command")]
MODELS = (
    "historicalborderportcounty",
    "historicallocalcasereport",
    "historicalpolicyversion",
    "historicalriskdesignation",
)


def _field(**default):
    return models.CharField(blank=True, choices=CHOICES, max_length=10, null=True, verbose_name="origin", **default)


class Migration(migrations.Migration):
    dependencies = [("policy", "0002_review_parameters")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AddField(model_name=name, name="history_origin", field=_field()) for name in MODELS
            ],
            state_operations=[
                migrations.AddField(
                    model_name=name,
                    name="history_origin",
                    field=_field(default=apps.core.origin.current_origin),
                )
                for name in MODELS
            ],
        ),
    ]
