"""`manage.py seed_demo [--persons N] [--seed S]`: the demo world of `apps.devtools.demo`.

Prints the demo logins (username, role, organisation, password, a fresh API token) and the demo
partner's token. Safe to run again: organisations and logins are re-ensured, persons and evidence
are created only once."""

from apps.core.management.base import BaseCommand, CommandError
from apps.devtools.demo import PARTNER_NAME, AreasNotLoaded, demo_seed

COLUMNS = ("username", "role", "organisation", "password", "token")


class Command(BaseCommand):
    help = "Create demo organisations, logins, a partner, persons and 30 days of evidence."

    def add_arguments(self, parser):
        parser.add_argument("--persons", type=int, default=3000, help="how many persons to create (default 3000)")
        parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")

    def handle(self, *args, persons, seed, **options):
        if persons < 0:
            raise CommandError("--persons: must be 0 or more.")
        try:
            result = demo_seed(persons=persons, seed=seed)
        except AreasNotLoaded as exc:
            raise CommandError(str(exc)) from exc

        created = result["created"]
        if created is None:
            self.stdout.write("Demo persons and evidence already exist; left as they are.")
        else:
            self.stdout.write(
                "Created " + ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in created.items()) + "."
            )
        if result["statuses"] is not None:
            self.stdout.write(f"Computed {result['statuses']} statuses.")
        if result["missing_areas"]:
            self.stderr.write("Areas not loaded, left out of the demo: " + ", ".join(result["missing_areas"]))

        self.stdout.write("")
        self.stdout.write(self.style.MIGRATE_HEADING("Logins"))
        rows = [COLUMNS] + [tuple(login[c] or "-" for c in COLUMNS) for login in result["logins"]]
        widths = [max(_width(row[i]) for row in rows) for i in range(len(COLUMNS))]
        for row in rows:
            self.stdout.write("  ".join(_pad(value, width) for value, width in zip(row, widths, strict=True)).rstrip())
        partner = result["partner"]
        self.stdout.write("")
        self.stdout.write(f"Partner {PARTNER_NAME} (scopes {','.join(partner['scopes'])}) token:")
        self.stdout.write(partner["token"])


def _width(text: str) -> int:
    """Display width: a Chinese character takes two columns in a terminal."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
