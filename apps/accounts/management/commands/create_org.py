"""`manage.py create_org CODE --kind KIND --name NAME [--area AREA_CODE] [--parent CODE]` (API.md).

Creates the organisation, or updates it when CODE exists; prints CODE alone on its last line."""

from django.core.exceptions import ValidationError

from apps.accounts.choices import OrgKind
from apps.accounts.management import validation_error_message
from apps.accounts.services import organisation_upsert
from apps.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create or update an organisation. Prints its code."

    def add_arguments(self, parser):
        parser.add_argument("code")
        parser.add_argument("--kind", required=True, help="One of: " + ", ".join(OrgKind.values))
        parser.add_argument("--name", required=True)
        parser.add_argument("--area", dest="area_code", default=None, help="GB/T 2260 code of its area")
        parser.add_argument("--parent", dest="parent_code", default=None, help="code of the parent organisation")

    def handle(self, *args, code, kind, name, area_code, parent_code, **options):
        try:
            org, created = organisation_upsert(
                code=code, kind=kind, name=name, area_code=area_code, parent_code=parent_code
            )
        except ValidationError as exc:
            raise CommandError(validation_error_message(exc)) from exc
        if options["verbosity"] > 1:
            self.stdout.write(f"{'Created' if created else 'Updated'} {org}")
        self.stdout.write(org.code)
