"""The policy models moved from apps.areas (issue 13) without touching the database: this only
tells Django's state that they now belong to this app, on the tables they always had
(`areas_<model>`, `areas_historical<model>`); apps/areas/migrations/0005_policy_moved_out.py takes
them out of the areas app's state. No table, column, index, constraint or trigger changes."""

import django.core.validators
import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    # The tables exist: apps/areas/migrations created them (0001-0003) and guarded the history
    # (0004). Ingestion is created by evidence 0001.
    dependencies = [
        ('areas', '0004_history_append_only'),
        ('evidence', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='HistoricalBorderPortCounty',
                    fields=[
                        ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                        ('effective_from', models.DateTimeField(verbose_name='effective from')),
                        ('effective_to', models.DateTimeField(blank=True, null=True, verbose_name='effective to')),
                        ('published_at', models.DateTimeField(blank=True, editable=False, verbose_name='published at')),
                        ('history_id', models.AutoField(primary_key=True, serialize=False)),
                        ('history_date', models.DateTimeField(db_index=True)),
                        ('history_change_reason', models.CharField(max_length=100, null=True)),
                        ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                        ('area', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='areas.area', verbose_name='county')),
                        ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('ingestion', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='evidence.ingestion', verbose_name='ingestion')),
                        ('published_by', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='published by')),
                    ],
                    options={
                        'verbose_name': 'historical border-port county',
                        'verbose_name_plural': 'historical border-port counties',
                        'db_table': 'areas_historicalborderportcounty',
                        'ordering': ('-history_date', '-history_id'),
                        'get_latest_by': ('history_date', 'history_id'),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name='HistoricalLocalCaseReport',
                    fields=[
                        ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                        ('source', models.CharField(default='local-cases', max_length=32, verbose_name='source')),
                        ('external_id', models.CharField(max_length=128, verbose_name='external id')),
                        ('reported_on', models.DateField(verbose_name='reported on')),
                        ('count', models.PositiveIntegerField(default=1, verbose_name='cases')),
                        ('content_hash', models.CharField(blank=True, editable=False, max_length=64)),
                        ('ingested_at', models.DateTimeField(db_index=True, verbose_name='ingested at')),
                        ('history_id', models.AutoField(primary_key=True, serialize=False)),
                        ('history_date', models.DateTimeField(db_index=True)),
                        ('history_change_reason', models.CharField(max_length=100, null=True)),
                        ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                        ('area', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='areas.area', verbose_name='county')),
                        ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('ingestion', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='evidence.ingestion', verbose_name='ingestion')),
                    ],
                    options={
                        'verbose_name': 'historical local-case report',
                        'verbose_name_plural': 'historical local-case reports',
                        'db_table': 'areas_historicallocalcasereport',
                        'ordering': ('-history_date', '-history_id'),
                        'get_latest_by': ('history_date', 'history_id'),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name='HistoricalPolicyVersion',
                    fields=[
                        ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                        ('created_at', models.DateTimeField(blank=True, editable=False, verbose_name='created at')),
                        ('updated_at', models.DateTimeField(blank=True, editable=False, verbose_name='updated at')),
                        ('effective_from', models.DateTimeField(db_index=True, verbose_name='effective from')),
                        ('lookback_days', models.PositiveIntegerField(default=14, validators=[django.core.validators.MinValueValidator(0)], verbose_name='look-back window (days)')),
                        ('local_case_clear_days', models.PositiveIntegerField(default=14, validators=[django.core.validators.MinValueValidator(0)], verbose_name='local case clears after (days)')),
                        ('telecom_min_stay_hours', models.PositiveIntegerField(default=4, validators=[django.core.validators.MinValueValidator(0)], verbose_name='minimum telecom stay (hours)')),
                        ('inbound_quarantine_days', models.PositiveIntegerField(default=21, validators=[django.core.validators.MinValueValidator(0)], verbose_name='inbound quarantine (days)')),
                        ('popup4_grace_hours', models.PositiveIntegerField(default=72, validators=[django.core.validators.MinValueValidator(0)], verbose_name='popup 4 grace (hours)')),
                        ('entry_nat_window_hours', models.PositiveIntegerField(default=48, validators=[django.core.validators.MinValueValidator(0)], verbose_name='entry NAT window (hours)')),
                        ('hotel_nat_validity_days', models.PositiveIntegerField(default=7, validators=[django.core.validators.MinValueValidator(0)], verbose_name='hotel NAT validity (days)')),
                        ('phone_unbind_days', models.PositiveIntegerField(default=14, validators=[django.core.validators.MinValueValidator(0)], verbose_name='phone counts after unbinding (days)')),
                        ('note', models.CharField(blank=True, max_length=500, verbose_name='note')),
                        ('history_id', models.AutoField(primary_key=True, serialize=False)),
                        ('history_date', models.DateTimeField(db_index=True)),
                        ('history_change_reason', models.CharField(max_length=100, null=True)),
                        ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                        ('created_by', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='created by')),
                        ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'historical policy version',
                        'verbose_name_plural': 'historical policy versions',
                        'db_table': 'areas_historicalpolicyversion',
                        'ordering': ('-history_date', '-history_id'),
                        'get_latest_by': ('history_date', 'history_id'),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name='HistoricalRiskDesignation',
                    fields=[
                        ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                        ('level', models.CharField(choices=[('low', 'low risk'), ('medium', 'medium risk'), ('high', 'high risk')], max_length=10, verbose_name='level')),
                        ('effective_from', models.DateTimeField(verbose_name='effective from')),
                        ('published_at', models.DateTimeField(blank=True, editable=False, verbose_name='published at')),
                        ('note', models.CharField(blank=True, max_length=500, verbose_name='note')),
                        ('history_id', models.AutoField(primary_key=True, serialize=False)),
                        ('history_date', models.DateTimeField(db_index=True)),
                        ('history_change_reason', models.CharField(max_length=100, null=True)),
                        ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                        ('area', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='areas.area', verbose_name='county')),
                        ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('ingestion', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='evidence.ingestion', verbose_name='ingestion')),
                        ('published_by', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='published by')),
                    ],
                    options={
                        'verbose_name': 'historical risk designation',
                        'verbose_name_plural': 'historical risk designations',
                        'db_table': 'areas_historicalriskdesignation',
                        'ordering': ('-history_date', '-history_id'),
                        'get_latest_by': ('history_date', 'history_id'),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name='PolicyVersion',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                        ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                        ('effective_from', models.DateTimeField(db_index=True, verbose_name='effective from')),
                        ('lookback_days', models.PositiveIntegerField(default=14, validators=[django.core.validators.MinValueValidator(0)], verbose_name='look-back window (days)')),
                        ('local_case_clear_days', models.PositiveIntegerField(default=14, validators=[django.core.validators.MinValueValidator(0)], verbose_name='local case clears after (days)')),
                        ('telecom_min_stay_hours', models.PositiveIntegerField(default=4, validators=[django.core.validators.MinValueValidator(0)], verbose_name='minimum telecom stay (hours)')),
                        ('inbound_quarantine_days', models.PositiveIntegerField(default=21, validators=[django.core.validators.MinValueValidator(0)], verbose_name='inbound quarantine (days)')),
                        ('popup4_grace_hours', models.PositiveIntegerField(default=72, validators=[django.core.validators.MinValueValidator(0)], verbose_name='popup 4 grace (hours)')),
                        ('entry_nat_window_hours', models.PositiveIntegerField(default=48, validators=[django.core.validators.MinValueValidator(0)], verbose_name='entry NAT window (hours)')),
                        ('hotel_nat_validity_days', models.PositiveIntegerField(default=7, validators=[django.core.validators.MinValueValidator(0)], verbose_name='hotel NAT validity (days)')),
                        ('phone_unbind_days', models.PositiveIntegerField(default=14, validators=[django.core.validators.MinValueValidator(0)], verbose_name='phone counts after unbinding (days)')),
                        ('note', models.CharField(blank=True, max_length=500, verbose_name='note')),
                        ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='created by')),
                    ],
                    options={
                        'verbose_name': 'policy version',
                        'verbose_name_plural': 'policy versions',
                        'db_table': 'areas_policyversion',
                        'ordering': ['-effective_from', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='BorderPortCounty',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('effective_from', models.DateTimeField(verbose_name='effective from')),
                        ('effective_to', models.DateTimeField(blank=True, null=True, verbose_name='effective to')),
                        ('published_at', models.DateTimeField(auto_now_add=True, verbose_name='published at')),
                        ('area', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='border_ports', to='areas.area', verbose_name='county')),
                        ('ingestion', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='evidence.ingestion', verbose_name='ingestion')),
                        ('published_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='published by')),
                    ],
                    options={
                        'verbose_name': 'border-port county',
                        'verbose_name_plural': 'border-port counties',
                        'db_table': 'areas_borderportcounty',
                        'ordering': ['area_id', '-effective_from'],
                        'indexes': [models.Index(fields=['area', 'effective_from'], name='borderport_area_eff')],
                    },
                ),
                migrations.CreateModel(
                    name='LocalCaseReport',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('source', models.CharField(default='local-cases', max_length=32, verbose_name='source')),
                        ('external_id', models.CharField(max_length=128, verbose_name='external id')),
                        ('reported_on', models.DateField(verbose_name='reported on')),
                        ('count', models.PositiveIntegerField(default=1, verbose_name='cases')),
                        ('content_hash', models.CharField(blank=True, editable=False, max_length=64)),
                        ('ingested_at', models.DateTimeField(db_index=True, verbose_name='ingested at')),
                        ('area', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='local_cases', to='areas.area', verbose_name='county')),
                        ('ingestion', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='evidence.ingestion', verbose_name='ingestion')),
                    ],
                    options={
                        'verbose_name': 'local-case report',
                        'verbose_name_plural': 'local-case reports',
                        'db_table': 'areas_localcasereport',
                        'ordering': ['-reported_on'],
                        'indexes': [models.Index(fields=['area', 'reported_on'], name='localcase_area_date')],
                        'constraints': [models.UniqueConstraint(fields=('source', 'external_id'), name='localcase_source_external_id')],
                    },
                ),
                migrations.CreateModel(
                    name='RiskDesignation',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('level', models.CharField(choices=[('low', 'low risk'), ('medium', 'medium risk'), ('high', 'high risk')], max_length=10, verbose_name='level')),
                        ('effective_from', models.DateTimeField(verbose_name='effective from')),
                        ('published_at', models.DateTimeField(auto_now_add=True, verbose_name='published at')),
                        ('note', models.CharField(blank=True, max_length=500, verbose_name='note')),
                        ('area', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='designations', to='areas.area', verbose_name='county')),
                        ('ingestion', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='evidence.ingestion', verbose_name='ingestion')),
                        ('published_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='published by')),
                    ],
                    options={
                        'verbose_name': 'risk designation',
                        'verbose_name_plural': 'risk designations',
                        'db_table': 'areas_riskdesignation',
                        'ordering': ['-effective_from', '-id'],
                        'indexes': [models.Index(fields=['area', 'effective_from', 'id'], name='designation_area_eff')],
                    },
                ),
            ],
        ),
    ]
