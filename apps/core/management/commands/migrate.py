"""`manage.py migrate`, as the migration owner (README: Database roles).

Django's own command, with two differences:

- it runs on the `owner` database (DATABASE_OWNER_URL) when one is configured, else on `default`
  (the SQLite first run, a single-role set-up); `--database` still picks another;
- after applying migrations it re-installs the purge functions with the retention periods now in
  the settings and gives the application role (DATABASE_APP_ROLE) exactly its privileges
  (`apps.core.db.database_sync`), so a table a migration created, a role created after the tables,
  or a changed setting is taken into account by running `migrate` again.
"""

from django.conf import settings
from django.core.management.commands import migrate
from django.db import connections

from apps.core.db import database_sync


def migration_database() -> str:
    return "owner" if "owner" in settings.DATABASES else "default"


class Command(migrate.Command):
    help = migrate.Command.help + " Runs as the migration owner (DATABASE_OWNER_URL) when one is configured."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.set_defaults(database=migration_database())

    def handle(self, *args, **options):
        super().handle(*args, **options)
        if options["plan"] or options["check_unapplied"]:
            return
        database_sync(connections[options["database"]])
