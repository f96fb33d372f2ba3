from django.db import migrations


class Migration(migrations.Migration):
    """The status table kept small and fast (issue 17): filled in by its author."""

    dependencies = [("status", "0003_dirty_partial_index")]

    operations = []
