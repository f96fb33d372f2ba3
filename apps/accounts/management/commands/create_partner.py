"""`manage.py create_partner NAME --scopes SCOPES` (API.md).

Creates the partner system, or updates its scopes when NAME exists; prints a new API token alone
on its last line (the partner's earlier tokens are revoked)."""

from django.core.exceptions import ValidationError

from apps.accounts.choices import Scope
from apps.accounts.management import validation_error_message
from apps.accounts.services import parse_scopes, partner_upsert
from apps.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create or update a partner system with its scopes. Prints an API token."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--scopes", required=True, help="comma-separated: " + ", ".join(Scope.values))

    def handle(self, *args, name, scopes, **options):
        try:
            partner, token = partner_upsert(name=name, scopes=parse_scopes(scopes))
        except ValidationError as exc:
            raise CommandError(validation_error_message(exc)) from exc
        if options["verbosity"] > 1:
            self.stdout.write(f"{partner.name}: {', '.join(partner.scopes)}")
        self.stdout.write(token)
