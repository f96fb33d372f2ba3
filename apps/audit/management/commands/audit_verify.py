"""`manage.py audit_verify [--checkpoint FILE]… [--size N] [--seal] [--json] [--public-key]`: check the sealed
audit against a checkpoint (the latest stored, one of a given size, or the largest of the files an
auditor kept, each a checkpoint or a list of them as `GET /api/v1/audit/checkpoints/` gives them),
with the public keys alone for the signatures. Prints the first row changed, removed or inserted
(source, id, sequence number) and every problem found; exits 1 when there is one (apps.audit.chain)."""

import json
import sys

from django.utils.translation import gettext as _

from apps.audit import chain, services, signing
from apps.audit.models import AuditCheckpoint
from apps.core.management.base import BaseCommand, CommandError

SHOWN = 20


def _load(path: str) -> list[chain.Checkpoint]:
    try:
        text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()  # noqa: SIM115
        data = json.loads(text)
        return [chain.Checkpoint.from_json(item) for item in (data if isinstance(data, list) else [data])]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CommandError(
            _("Cannot read checkpoints from %(path)s: %(error)s") % {"path": path, "error": error}
        ) from None


class Command(BaseCommand):
    help = _("Verify the sealed audit against a signed checkpoint; report the first row changed, removed or inserted.")

    def add_arguments(self, parser):
        parser.add_argument(
            "--checkpoint",
            action="append",
            default=[],
            metavar="FILE",
            help=_("A JSON file of checkpoints kept by an auditor ('-': standard input); repeatable."),
        )
        parser.add_argument(
            "--size", type=int, default=None, help=_("Verify against the stored checkpoint of this size.")
        )
        parser.add_argument("--seal", action="store_true", help=_("Seal what is settled first."))
        parser.add_argument("--json", action="store_true", dest="as_json", help=_("Print the report as JSON."))
        parser.add_argument(
            "--public-key",
            action="store_true",
            help=_("Print the public keys checkpoints are verified with (PEM, by kid) and stop."),
        )

    def handle(self, *args, checkpoint: list[str], size: int | None, seal: bool, as_json: bool, **options):
        if options.get("public_key"):
            for kid, key in signing.verification_keys().items():
                self.stdout.write(
                    f"kid {kid} ({signing.ALG}, base64 {signing.public_b64(key)})\n{signing.public_pem(key)}"
                )
            return
        if seal and services.audit_seal() is None:
            raise CommandError(_("Another sealer is running; try again when it has finished."))
        given = [cp for path in checkpoint for cp in _load(path)]
        target = None
        if size is not None:
            row = AuditCheckpoint.objects.filter(size=size).order_by("-id").first()
            if row is None:
                raise CommandError(_("No stored checkpoint of size %(size)d.") % {"size": size})
            target = chain.Checkpoint.of(row)
        elif given:
            target = max(given, key=lambda cp: cp.size)
        report = chain.verify(checkpoint=target, others=[cp for cp in given if cp != target])
        if as_json:
            self.stdout.write(
                json.dumps(
                    {
                        "ok": report.ok,
                        "checkpoint": report.checkpoint.as_json() if report.checkpoint else None,
                        "leaves": report.leaves,
                        "present": report.present,
                        "purged": report.purged,
                        "checkpoints_checked": report.checkpoints_checked,
                        "problems": [
                            {"kind": p.kind, "source": p.source, "id": p.row_id, "seq": p.seq, "detail": p.detail}
                            for p in report.problems
                        ],
                    }
                )
            )
        if report.checkpoint is None:
            raise CommandError(_("No checkpoint to verify against: run manage.py audit_seal first."))
        cp = report.checkpoint
        if report.ok:
            if not as_json:
                self.stdout.write(
                    _(
                        "OK: %(leaves)d leaves (%(present)d rows present, %(purged)d purged) match the checkpoint "
                        "of size %(size)d at %(at)s, root %(root)s; %(checked)d checkpoints checked."
                    )
                    % {
                        "leaves": report.leaves,
                        "present": report.present,
                        "purged": report.purged,
                        "size": cp.size,
                        "at": cp.at,
                        "root": cp.root,
                        "checked": report.checkpoints_checked,
                    }
                )
            return
        if not as_json:
            for problem in report.problems[:SHOWN]:
                self.stdout.write(str(problem))
            if len(report.problems) > SHOWN:
                self.stdout.write(_("… and %(more)d more") % {"more": len(report.problems) - SHOWN})
        raise CommandError(
            _("The audit does not match the checkpoint of size %(size)d: first %(first)s (%(count)d problems).")
            % {"size": cp.size, "first": report.first, "count": len(report.problems)}
        )
