"""``coffre enterprise add|list|show``: register enterprises (and so their e-Boxes), idempotently."""

from django.core.management.base import BaseCommand, CommandError, no_translations

from coffre.accounts.models import Enterprise
from coffre.accounts.services import register_enterprise
from coffre.audit.services import Actor
from coffre.core.cbe import InvalidCBE, normalize_cbe
from coffre.core.commands import emit


def _as_dict(enterprise: Enterprise) -> dict:
    return {
        "cbe": enterprise.cbe,
        "name": enterprise.name,
        "language": enterprise.language,
        "active": enterprise.active,
        "created_at": enterprise.created_at.isoformat(),
    }


class Command(BaseCommand):
    help = "Register and list enterprises; registering one creates its e-Box."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="register an enterprise or update its name/language/state")
        add.add_argument("cbe", help="CBE/KBO number (0123.456.749, 0123456749 or 123456749)")
        add.add_argument("--name", required=True)
        add.add_argument("--language", choices=["fr", "nl", "de", "en"])
        state = add.add_mutually_exclusive_group()
        state.add_argument("--active", dest="active", action="store_true", default=None)
        state.add_argument("--inactive", dest="active", action="store_false")
        add.add_argument("--json", action="store_true")
        listing = sub.add_parser("list")
        listing.add_argument("--json", action="store_true")
        show = sub.add_parser("show")
        show.add_argument("cbe")
        show.add_argument("--json", action="store_true")

    @no_translations  # the operator's console is English, messages of the services included
    def handle(self, *args, action, **options):
        if action == "add":
            try:
                outcome = register_enterprise(
                    options["cbe"], options["name"], Actor.cli("enterprise add"),
                    language=options["language"], active=options["active"],
                )
            except (InvalidCBE, ValueError) as exc:
                raise CommandError(str(exc)) from None
            data = {**_as_dict(outcome.enterprise), "created": outcome.created, "changed": outcome.changed}
            verb = "registered" if outcome.created else ("updated" if outcome.changed else "unchanged")
            emit(self, data, options["json"], f"{verb}: {outcome.enterprise}")
        elif action == "list":
            rows = [_as_dict(enterprise) for enterprise in Enterprise.objects.all()]
            emit(self, rows, options["json"], "\n".join(f"{r['cbe']} {r['name']}" for r in rows))
        else:
            try:
                enterprise = Enterprise.objects.get(cbe=normalize_cbe(options["cbe"], lenient=True))
            except (InvalidCBE, Enterprise.DoesNotExist):
                raise CommandError(f"no enterprise {options['cbe']}") from None
            data = _as_dict(enterprise)
            emit(self, data, options["json"], "\n".join(f"{key}: {value}" for key, value in data.items()))
