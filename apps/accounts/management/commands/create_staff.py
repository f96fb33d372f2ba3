"""`manage.py create_staff USERNAME --role ROLE --org CODE [--password P]` (API.md).

Creates the staff user, or updates its role, organisation and password when USERNAME exists;
prints a new API token alone on its last line (the user's earlier tokens are revoked)."""

from django.core.exceptions import ValidationError

from apps.accounts.choices import Role
from apps.accounts.management import validation_error_message
from apps.accounts.services import staff_upsert
from apps.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create or update a staff user with one role and one organisation. Prints an API token."

    def add_arguments(self, parser):
        roles = [r for r in Role.values if r != Role.PARTNER]
        parser.add_argument("username")
        parser.add_argument("--role", required=True, help="One of: " + ", ".join(roles))
        parser.add_argument("--org", dest="org_code", required=True, help="code of the organisation")
        parser.add_argument("--password", default=None, help="to log in to the portal (left unchanged when omitted)")

    def handle(self, *args, username, role, org_code, password, **options):
        try:
            user, token = staff_upsert(username=username, role=role, org_code=org_code, password=password)
        except ValidationError as exc:
            raise CommandError(validation_error_message(exc)) from exc
        if options["verbosity"] > 1:
            self.stdout.write(f"{user.username}: {user.role} at {user.organisation}")
        self.stdout.write(token)
