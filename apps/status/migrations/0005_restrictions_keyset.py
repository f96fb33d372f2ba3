from django.db import migrations


class Migration(migrations.Migration):
    """The restrictions feed in O(page) (issue 16): filled in by its author."""

    dependencies = [("status", "0004_status_table_hot")]

    operations = []
