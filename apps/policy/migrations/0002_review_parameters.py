"""The release reviews' parameters (apps.reviews): releases an hour by one user, the working
hours, the window of a popup coming back. SQLite adds a column with a default by rebuilding the
table, which drops its triggers: the history's append-only guard is installed again after."""

import django.core.validators
from django.db import migrations, models

from apps.core.db import append_only_install


def guard_history(apps, schema_editor):
    append_only_install(schema_editor, "areas_historicalpolicyversion")


class Migration(migrations.Migration):

    dependencies = [
        ('policy', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='historicalpolicyversion',
            name='reraised_within_hours',
            field=models.PositiveIntegerField(default=72, validators=[django.core.validators.MinValueValidator(0)], verbose_name='review: popup back within (hours) of a release'),
        ),
        migrations.AddField(
            model_name='historicalpolicyversion',
            name='review_burst_per_hour',
            field=models.PositiveIntegerField(default=30, validators=[django.core.validators.MinValueValidator(0)], verbose_name='review: persons one user may release an hour'),
        ),
        migrations.AddField(
            model_name='historicalpolicyversion',
            name='working_hours_end',
            field=models.PositiveSmallIntegerField(default=20, validators=[django.core.validators.MaxValueValidator(24)], verbose_name='review: working hours end (hour)'),
        ),
        migrations.AddField(
            model_name='historicalpolicyversion',
            name='working_hours_start',
            field=models.PositiveSmallIntegerField(default=8, validators=[django.core.validators.MaxValueValidator(24)], verbose_name='review: working hours start (hour)'),
        ),
        migrations.AddField(
            model_name='policyversion',
            name='reraised_within_hours',
            field=models.PositiveIntegerField(default=72, validators=[django.core.validators.MinValueValidator(0)], verbose_name='review: popup back within (hours) of a release'),
        ),
        migrations.AddField(
            model_name='policyversion',
            name='review_burst_per_hour',
            field=models.PositiveIntegerField(default=30, validators=[django.core.validators.MinValueValidator(0)], verbose_name='review: persons one user may release an hour'),
        ),
        migrations.AddField(
            model_name='policyversion',
            name='working_hours_end',
            field=models.PositiveSmallIntegerField(default=20, validators=[django.core.validators.MaxValueValidator(24)], verbose_name='review: working hours end (hour)'),
        ),
        migrations.AddField(
            model_name='policyversion',
            name='working_hours_start',
            field=models.PositiveSmallIntegerField(default=8, validators=[django.core.validators.MaxValueValidator(24)], verbose_name='review: working hours start (hour)'),
        ),
        migrations.RunPython(guard_history, guard_history, elidable=False),
    ]
