"""`manage.py purge_expired [--dry-run]`: run the retention purges now and print the counts."""

from django.utils.translation import gettext as _

from apps.core.management.base import BaseCommand, CommandError
from apps.retention import services


class Command(BaseCommand):
    help = _("Purge personal data past its retention period (信息最小化) and print the counts per purge.")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help=_("Count what would be purged; change nothing."))

    def handle(self, *args, dry_run: bool = False, **options):
        with services.purge_lock() as acquired:
            if not acquired:
                raise CommandError(_("Another purge is running; try again when it has finished."))
            counts = services.purge_expired(dry_run=dry_run)
        label = _("would purge") if dry_run else _("purged")
        for name, count in counts.items():
            self.stdout.write(f"{name}: {count} ({label})")
