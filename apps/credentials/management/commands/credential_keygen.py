"""`manage.py credential_keygen`: a new credential signing key pair for operators (README "Signed
status credentials": rotation). Prints one JSON entry for CREDENTIAL_SIGNING_KEYS; its
`public_key` is what other regions put on their trust lists."""

import datetime as dt
import json

from django.core.management.base import CommandError

from apps.core.clock import now
from apps.core.management.base import BaseCommand

from ...choices import KeyAlgorithm
from ...signing import key_generate


class Command(BaseCommand):
    help = "Print a new credential signing key pair as an entry of CREDENTIAL_SIGNING_KEYS (JSON)."

    def add_arguments(self, parser):
        parser.add_argument("--alg", choices=KeyAlgorithm.values, default=KeyAlgorithm.ES256)
        parser.add_argument("--kid", default="", help="the key id (default: hk-<date>-<random>)")
        parser.add_argument(
            "--valid-from", default="", help="ISO 8601 moment with offset from which it signs (default: now)"
        )

    def handle(self, *args, alg, kid, valid_from, **options):
        try:
            start = dt.datetime.fromisoformat(valid_from) if valid_from else now()
        except ValueError as error:
            raise CommandError(f"--valid-from is not an ISO 8601 moment: {valid_from}") from error
        if start.tzinfo is None:
            raise CommandError("--valid-from needs an offset, e.g. 2026-12-01T00:00:00+08:00")
        if kid and (not kid.isascii() or len(kid) > 64):
            raise CommandError("--kid is 1 to 64 ASCII characters")
        self.stdout.write(json.dumps(key_generate(alg=alg, kid=kid, valid_from=start), ensure_ascii=False))
