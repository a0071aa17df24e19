"""``coffre firm add|collaborator|list``: create accounting firms and their collaborators (seed 002),
idempotently, with ``--json`` output for scripts.

    coffre firm add "Fidu Lebrun" [--enterprise 0123.456.749]
    coffre firm collaborator "Fidu Lebrun" marc@fidu-lebrun.example --admin
    coffre firm collaborator 3 julie@fidu-lebrun.example [--no-admin | --remove]
    coffre firm list --json

A firm is named by its number (id) or its name. The collaborator's person must already sign in to
Coffre. Once the firm has an administrator, the rest happens in the portal: its admins add
collaborators; enterprises give the firm access by its number or its admin's e-mail address.
"""

from django.core.management.base import BaseCommand, CommandError, no_translations

from coffre.accounts import services_firms
from coffre.accounts.models import AccountingFirm, Enterprise, User
from coffre.audit.services import Actor
from coffre.core.cbe import InvalidCBE, normalize_cbe
from coffre.core.commands import emit


def as_dict(firm: AccountingFirm) -> dict:
    return {
        "id": firm.pk,
        "name": firm.name,
        "cbe": firm.enterprise.cbe if firm.enterprise else None,
        "collaborators": [
            {"email": c.user.email, "is_admin": c.is_admin}
            for c in sorted(firm.collaborators.all(), key=lambda c: c.user.email)
        ],
        "clients": sorted(client_file.enterprise.cbe for client_file in firm.client_files.all()),
        "created_at": firm.created_at.isoformat(),
    }


class Command(BaseCommand):
    help = "Create accounting firms and their collaborators, and list them."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="create a firm (by name, case-insensitive) or set its enterprise")
        add.add_argument("name")
        add.add_argument("--enterprise", help="CBE number of the firm's own enterprise")
        add.add_argument("--json", action="store_true")

        collaborator = sub.add_parser(
            "collaborator", help="add a collaborator, change their admin flag, or remove them"
        )
        collaborator.add_argument("firm", help="the firm's number or name")
        collaborator.add_argument("email", help="the e-mail address the person signs in with")
        admin = collaborator.add_mutually_exclusive_group()
        admin.add_argument("--admin", dest="is_admin", action="store_true", default=None)
        admin.add_argument("--no-admin", dest="is_admin", action="store_false")
        admin.add_argument("--remove", action="store_true")
        collaborator.add_argument("--json", action="store_true")

        listing = sub.add_parser("list", help="list the firms, their collaborators and clients")
        listing.add_argument("--json", action="store_true")

    @no_translations  # the operator's console is English, messages of the services included
    def handle(self, *args, action, **options):
        actor = Actor.cli(f"firm {action}")
        try:
            getattr(self, f"_{action}")(actor, options)
        except services_firms.FirmError as exc:
            raise CommandError(str(exc)) from None

    def _firm(self, identifier: str) -> AccountingFirm:
        identifier = identifier.strip()
        if identifier.isdigit():
            firm = AccountingFirm.objects.filter(pk=int(identifier)).first()
        else:
            firms = list(AccountingFirm.objects.filter(name__iexact=" ".join(identifier.split()))[:2])
            if len(firms) > 1:
                raise CommandError(f"several firms are named {identifier!r}: give the firm's number")
            firm = firms[0] if firms else None
        if firm is None:
            raise CommandError(f"no accounting firm {identifier!r} (create it with `firm add`)")
        return firm

    def _add(self, actor, options):
        enterprise = None
        if options["enterprise"]:
            try:
                enterprise = Enterprise.objects.get(cbe=normalize_cbe(options["enterprise"], lenient=True))
            except (InvalidCBE, Enterprise.DoesNotExist):
                raise CommandError(f"no enterprise {options['enterprise']}") from None
        outcome = services_firms.set_up_firm(options["name"], actor=actor, enterprise=enterprise)
        firm = outcome.obj
        data = {**as_dict(firm), "created": outcome.created, "changed": outcome.changed}
        verb = "created" if outcome.created else ("updated" if outcome.changed else "unchanged")
        emit(self, data, options["json"], f"{verb}: firm {firm.pk} {firm.name}")

    def _collaborator(self, actor, options):
        firm = self._firm(options["firm"])
        email = options["email"].strip()
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(f"nobody signs in with {email}: the person signs up first")
        if options["remove"]:
            collaborator = firm.collaborators.filter(user=user).first()
            if collaborator is not None:
                services_firms.remove_collaborator(collaborator, actor=actor)
            data = {
                "firm": firm.pk,
                "email": user.email,
                "removed": collaborator is not None,
                "changed": collaborator is not None,
            }
            text = f"{'removed' if collaborator else 'not a collaborator'}: {user.email} ({firm.name})"
        else:
            outcome = services_firms.set_collaborator(firm, user, is_admin=options["is_admin"], actor=actor)
            data = {
                "firm": firm.pk,
                "email": user.email,
                "is_admin": outcome.obj.is_admin,
                "created": outcome.created,
                "changed": outcome.changed,
            }
            verb = "added" if outcome.created else ("updated" if outcome.changed else "unchanged")
            role = "admin" if outcome.obj.is_admin else "collaborator"
            text = f"{verb}: {user.email} ({role} of {firm.name})"
        emit(self, data, options["json"], text)

    def _list(self, actor, options):
        firms = AccountingFirm.objects.select_related("enterprise").prefetch_related(
            "collaborators__user", "client_files__enterprise"
        )
        rows = [as_dict(firm) for firm in firms.order_by("name", "pk")]
        text = "\n".join(
            f"{row['id']} {row['name']}: "
            f"{len(row['collaborators'])} collaborator(s), {len(row['clients'])} client(s)"
            for row in rows
        )
        emit(self, rows, options["json"], text)
