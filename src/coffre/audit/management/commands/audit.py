"""``coffre audit verify``: check the audit trail's hash chain; ``coffre audit tail``: show the end."""

import json

from django.core.management.base import BaseCommand, CommandError

from coffre.audit.models import AuditRecord
from coffre.audit.services import verify_chain


class Command(BaseCommand):
    help = "Verify or show the tamper-evident audit trail."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="recompute the hash chain and report any tampering")
        verify.add_argument("--json", action="store_true")
        tail = sub.add_parser("tail", help="print the last records")
        tail.add_argument("-n", type=int, default=20)
        tail.add_argument("--json", action="store_true")

    def handle(self, *args, action, **options):
        if action == "verify":
            return self._verify(options["json"])
        return self._tail(options["n"], options["json"])

    def _verify(self, as_json: bool):
        result = verify_chain()
        if as_json:
            self.stdout.write(json.dumps({
                "ok": result.ok,
                "checked": result.checked,
                "problems": [vars(problem) for problem in result.problems],
            }))
        else:
            for problem in result.problems:
                self.stdout.write(f"record #{problem.seq}: {problem.kind}: {problem.detail}")
            if result.ok:
                self.stdout.write(f"audit trail intact: {result.checked} records")
        if not result.ok:
            raise CommandError(f"audit trail tampered: {len(result.problems)} problem(s)", returncode=2)

    def _tail(self, count: int, as_json: bool):
        records = list(AuditRecord.objects.order_by("-seq")[:count])[::-1]
        for entry in records:
            row = {
                "seq": entry.seq,
                "timestamp": entry.timestamp.isoformat(timespec="microseconds"),
                "actor": f"{entry.actor_kind}:{entry.actor}",
                "action": entry.action,
                "method": entry.method,
                "url": entry.url,
                "status": entry.status,
                "details": entry.details,
            }
            self.stdout.write(json.dumps(row) if as_json else " ".join(str(v) for v in row.values()))
