"""`manage.py audit_seal [--wait S] [--every S]`: seal the audit rows not yet sealed and sign a
checkpoint now, as the beat task does every minute (apps.audit.chain); `--every` repeats it until
interrupted (the benchmark's concurrent sealer)."""

import signal
import time

from django.utils.translation import gettext as _

from apps.audit import chain, services
from apps.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = _("Seal the audit rows written since the last seal and sign a checkpoint of the sealed audit.")

    def add_arguments(self, parser):
        parser.add_argument(
            "--wait",
            type=float,
            default=chain.SEAL_WAIT_SECONDS,
            help=_("Seconds to wait for transactions still writing the audit (default %(default)s)."),
        )
        parser.add_argument(
            "--every", type=float, default=0.0, help=_("Seal again every this many seconds, until interrupted.")
        )

    def handle(self, *args, wait: float, every: float, **options):
        stop = []
        if every > 0:
            signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
        while True:
            result = services.audit_seal(wait=wait)
            if result is None:
                if every <= 0:
                    raise CommandError(_("Another sealer is running; try again when it has finished."))
            else:
                self.stdout.write(
                    _("sealed %(count)d rows: %(size)d leaves, root %(root)s")
                    % {"count": result.count, "size": result.size, "root": result.root},
                )
                for source, writers in result.waiting.items():
                    self.stdout.write(
                        _("%(source)s: not sealed this time, %(writers)d transactions still writing it")
                        % {"source": source, "writers": writers}
                    )
                self.stdout.flush()
            if every <= 0 or stop:
                return
            deadline = time.monotonic() + every
            while not stop and time.monotonic() < deadline:
                time.sleep(min(0.05, every))
            if stop:
                return
