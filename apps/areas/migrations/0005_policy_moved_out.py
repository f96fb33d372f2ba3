"""The designations, local-case reports, border-port counties and policy versions (and their
histories) moved to apps.policy (issue 13): taken out of this app's state only. Their tables keep
their names and rows; apps/policy/migrations/0001_initial.py declares them there."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("areas", "0004_history_append_only"),
        ("policy", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(name=name)
                for name in (
                    "HistoricalRiskDesignation",
                    "HistoricalLocalCaseReport",
                    "HistoricalBorderPortCounty",
                    "HistoricalPolicyVersion",
                    "RiskDesignation",
                    "LocalCaseReport",
                    "BorderPortCounty",
                    "PolicyVersion",
                )
            ],
        ),
    ]
