"""`manage.py rotate_token USERNAME [--immediately]`: a new API token for a staff user or a
partner's service user (`partner:NAME`), printed alone on the last line. The user's other tokens
stay valid for API_TOKEN_ROTATION_GRACE_HOURS, or end at once with --immediately."""

from apps.accounts.models import User
from apps.accounts.services import api_token_rotate_user
from apps.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Issue a new API token for USERNAME and retire the old ones (after a grace period)."

    def add_arguments(self, parser):
        parser.add_argument("username", help="a staff username, or partner:NAME for a partner system")
        parser.add_argument("--immediately", action="store_true", help="revoke the old tokens now, no grace period")

    def handle(self, *args, username, immediately, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"username: no user {username!r}.")
        self.stdout.write(api_token_rotate_user(user=user, immediately=immediately))
