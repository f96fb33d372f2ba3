"""`manage.py load_areas [--path CSV]` (API.md): the complete national administrative divisions.

Loads `apps/areas/data/divisions.csv` (GB/T 2260, revision 2019-04, with the municipalities' city
codes; see `apps/areas/data/README.md`). Safe to run again: it creates only missing codes and
updates only changed rows. Prints a summary, and the number of divisions alone on its last line."""

from django.utils.translation import gettext as _

from apps.areas.services import areas_load
from apps.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    @property
    def help(self) -> str:
        # A property, so the text is translated when the parser is built (argparse needs a str).
        return _(
            "Load the complete national administrative divisions (省 province, 市 city, 县 county; "
            "GB/T 2260 six-digit codes). Prints the number of divisions on its last line."
        )

    def add_arguments(self, parser):
        parser.add_argument(
            "--path",
            default=None,
            help=_("CSV file to load instead of the shipped apps/areas/data/divisions.csv"),
        )

    def handle(self, *args, path, **options):
        try:
            result = areas_load(path=path)
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            _("Provinces %(province)d, cities %(city)d, counties %(county)d (省级 / 地级 / 县级).") % result
        )
        self.stdout.write(_("Created %(created)d, updated %(updated)d, unchanged %(unchanged)d.") % result)
        if result["not_in_file"]:
            self.stderr.write(_("%(not_in_file)d areas in the database are not in the file; they were kept.") % result)
        self.stdout.write(str(result["total"]))
