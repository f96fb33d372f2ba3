from django.db import migrations

from apps.core.db import append_only_operation


class Migration(migrations.Migration):
    dependencies = [("status", "0001_initial")]

    operations = [
        append_only_operation("status_release", fill_once="status_after"),
        append_only_operation("status_releaseattachment"),
    ]
