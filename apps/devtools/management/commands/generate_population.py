"""`manage.py generate_population [--persons N] [--seed S] [--workers W] [--chunk C]`: a city-scale
population (`apps.devtools.population`) with phones, 30 days of evidence and computed statuses.
Appends on every run: new persons, never the IDs of persons already there."""

import json
import time

from django.conf import settings

from apps.core.management.base import BaseCommand, CommandError
from apps.devtools.demo import AreasNotLoaded
from apps.devtools.population import DEFAULT_CHUNK, DEFAULT_PERSONS, default_workers, population_generate


class Command(BaseCommand):
    help = "Generate a population of persons with phones, evidence and statuses (bulk, for benchmarks)."

    def add_arguments(self, parser):
        parser.add_argument("--persons", type=int, default=DEFAULT_PERSONS, help=f"default {DEFAULT_PERSONS}")
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument(
            "--workers", type=int, default=None, help=f"processes (default {default_workers()}; 1 on SQLite)"
        )
        parser.add_argument(
            "--chunk", type=int, default=DEFAULT_CHUNK, help=f"persons a chunk (default {DEFAULT_CHUNK})"
        )
        parser.add_argument("--json", dest="as_json", action="store_true", help="print the report as JSON")
        parser.add_argument(
            "--allow-real-key",
            action="store_true",
            help="run although PERSONAL_DATA_KEY is not the development key (a production database?)",
        )

    def handle(self, *args, persons, seed, workers, chunk, as_json=False, **options):
        if persons < 1:
            raise CommandError("--persons: must be 1 or more.")
        # The development key is a setting like any other (config/settings/base.py): apps never
        # import config, the top layer.
        if settings.PERSONAL_DATA_KEY != settings.DEV_PERSONAL_DATA_KEY and not options["allow_real_key"]:
            # It adds made-up persons and the demo logins (with their known password) to the database.
            raise CommandError(
                "PERSONAL_DATA_KEY is not the development key: this looks like a real database. "
                "Pass --allow-real-key to generate a population in it anyway."
            )
        started = time.perf_counter()
        last = [0.0]

        def progress(done: int, total: int) -> None:
            elapsed = time.perf_counter() - started
            if done >= total or elapsed - last[0] >= 5:
                last[0] = elapsed
                self.stderr.write(f"  {done:,} / {total:,} persons, {elapsed:.0f} s")

        try:
            report = population_generate(persons=persons, seed=seed, workers=workers, chunk=chunk, progress=progress)
        except AreasNotLoaded as exc:
            raise CommandError(str(exc)) from exc
        data = report.as_json()
        if as_json:
            self.stdout.write(json.dumps(data, ensure_ascii=False))
            return
        rows = ", ".join(f"{n:,} {name.replace('_', ' ')}" for name, n in data["rows"].items())
        self.stdout.write(f"Created {rows}; computed {data['persons']:,} statuses.")
        self.stdout.write(
            f"{data['seconds']} s with {data['workers']} worker(s), {data['persons_per_second']} persons/s "
            f"(worker time: {data['worker_seconds']})."
        )
