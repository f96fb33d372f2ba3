"""`manage.py revoke_tokens USERNAME`: every API token of the user stops working now (a leaked
token, a partner contract ended, a staff member leaving). Prints how many were revoked."""

from apps.accounts.models import User
from apps.accounts.services import api_token_revoke_all
from apps.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Revoke every API token of USERNAME."

    def add_arguments(self, parser):
        parser.add_argument("username", help="a staff username, or partner:NAME for a partner system")

    def handle(self, *args, username, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"username: no user {username!r}.")
        self.stdout.write(str(api_token_revoke_all(user=user)))
