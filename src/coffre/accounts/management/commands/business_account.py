"""``coffre business_account add|contact|contract|list``: set up the business accounts people link
their profile to (seed 003), idempotently, with ``--json`` output for scripts.

    coffre business_account add 1234567 --enterprise 0123.456.749 --postal-code 1000 --kind commercial
    coffre business_account contact 1234567 anne@example.be --kind primary --name "Anne Dupont"
    coffre business_account contact 1234567 compta@example.be --kind billing
    coffre business_account contract 1234567 C-42
    coffre business_account list [--enterprise CBE] --json

Running the same command again changes nothing (``"changed": false``); ``--remove`` takes a contact
or a contract away. Every change is in the audit trail.
"""

from django.core.management.base import BaseCommand, CommandError, no_translations

from coffre.accounts import services_linking
from coffre.accounts.models import BusinessAccount, BusinessContact, Enterprise
from coffre.audit.services import Actor
from coffre.core.cbe import InvalidCBE, normalize_cbe
from coffre.core.commands import emit


def as_dict(account: BusinessAccount) -> dict:
    contacts = sorted(account.contacts.all(), key=lambda contact: (contact.kind, contact.email))
    return {
        "client_number": account.client_number,
        "cbe": account.enterprise.cbe,
        "enterprise": account.enterprise.name,
        "postal_code": account.postal_code,
        "kind": account.kind,
        "contracts": sorted(contract.number for contract in account.contracts.all()),
        "contacts": [{"kind": c.kind, "email": c.email, "name": c.name} for c in contacts],
        "linked_people": account.links.filter(removed_at__isnull=True).count(),
        "created_at": account.created_at.isoformat(),
    }


def _warnings(account: BusinessAccount) -> list[str]:
    if not account.contacts.filter(kind=BusinessContact.Kind.PRIMARY).exists():
        return ["no primary contact: nobody is told when a person links to this account"]
    return []


class Command(BaseCommand):
    help = "Set up business accounts (client number, postal code, kind, contracts, contacts) and list them."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="create a business account or update its postal code and kind")
        add.add_argument("client_number")
        add.add_argument("--enterprise", required=True, help="CBE number of the account's enterprise")
        add.add_argument("--postal-code", required=True, help="postal code of the business address")
        add.add_argument(
            "--kind", choices=BusinessAccount.Kind.values, help="default for a new account: commercial"
        )
        add.add_argument("--json", action="store_true")

        contact = sub.add_parser("contact", help="add (or --remove) a primary or billing contact")
        contact.add_argument("client_number")
        contact.add_argument("email")
        contact.add_argument("--kind", choices=BusinessContact.Kind.values, required=True)
        contact.add_argument("--name")
        contact.add_argument("--remove", action="store_true")
        contact.add_argument("--json", action="store_true")

        contract = sub.add_parser("contract", help="add (or --remove) a contract number")
        contract.add_argument("client_number")
        contract.add_argument("number")
        contract.add_argument("--remove", action="store_true")
        contract.add_argument("--json", action="store_true")

        listing = sub.add_parser("list", help="list the business accounts")
        listing.add_argument("--enterprise", help="only this enterprise's accounts (CBE number)")
        listing.add_argument("--json", action="store_true")

    @no_translations  # the operator's console is English, messages of the services included
    def handle(self, *args, action, **options):
        actor = Actor.cli(f"business_account {action}")
        try:
            getattr(self, f"_{action}")(actor, options)
        except (ValueError, InvalidCBE) as exc:
            raise CommandError(str(exc)) from None

    def _enterprise(self, cbe: str) -> Enterprise:
        try:
            return Enterprise.objects.get(cbe=normalize_cbe(cbe, lenient=True))
        except (InvalidCBE, Enterprise.DoesNotExist):
            raise CommandError(f"no enterprise {cbe} (register it with `coffre enterprise add`)") from None

    def _account(self, client_number: str) -> BusinessAccount:
        number = services_linking.normalize_code(client_number)
        account = BusinessAccount.objects.select_related("enterprise").filter(client_number=number).first()
        if account is None:
            raise CommandError(f"no business account {client_number} (create it with `business_account add`)")
        return account

    def _add(self, actor, options):
        outcome = services_linking.set_up_account(
            options["client_number"],
            enterprise=self._enterprise(options["enterprise"]),
            postal_code=options["postal_code"],
            kind=options["kind"],
            actor=actor,
        )
        account = outcome.obj
        data = {
            **as_dict(account),
            "created": outcome.created,
            "changed": outcome.changed,
            "warnings": _warnings(account),
        }
        verb = "created" if outcome.created else ("updated" if outcome.changed else "unchanged")
        text = "\n".join([f"{verb}: {account.client_number} ({account.enterprise})", *data["warnings"]])
        emit(self, data, options["json"], text)

    def _contact(self, actor, options):
        account = self._account(options["client_number"])
        if options["remove"]:
            removed = services_linking.remove_contact(
                account, options["email"], kind=options["kind"], actor=actor
            )
            data = {
                "client_number": account.client_number,
                "email": options["email"].strip().lower(),
                "kind": options["kind"],
                "removed": removed,
                "changed": removed,
            }
            text = f"{'removed' if removed else 'not a contact'}: {options['email']} ({options['kind']})"
        else:
            outcome = services_linking.set_contact(
                account, options["email"], kind=options["kind"], name=options["name"], actor=actor
            )
            data = {
                "client_number": account.client_number,
                "email": outcome.obj.email,
                "kind": outcome.obj.kind,
                "name": outcome.obj.name,
                "created": outcome.created,
                "changed": outcome.changed,
            }
            verb = "added" if outcome.created else ("updated" if outcome.changed else "unchanged")
            text = f"{verb}: {outcome.obj.email} ({outcome.obj.kind} contact of {account.client_number})"
        emit(self, data, options["json"], text)

    def _contract(self, actor, options):
        account = self._account(options["client_number"])
        number = services_linking.normalize_code(options["number"])
        if options["remove"]:
            changed = services_linking.remove_contract(account, number, actor=actor)
            data = {
                "client_number": account.client_number,
                "contract": number,
                "removed": changed,
                "changed": changed,
            }
            text = f"{'removed' if changed else 'no such contract'}: {number}"
        else:
            outcome = services_linking.add_contract(account, number, actor=actor)
            data = {
                "client_number": account.client_number,
                "contract": number,
                "created": outcome.created,
                "changed": outcome.changed,
            }
            text = (
                f"{'added' if outcome.created else 'unchanged'}: contract {number} of {account.client_number}"
            )
        emit(self, data, options["json"], text)

    def _list(self, actor, options):
        accounts = BusinessAccount.objects.select_related("enterprise").prefetch_related(
            "contacts", "contracts"
        )
        if options["enterprise"]:
            accounts = accounts.filter(enterprise=self._enterprise(options["enterprise"]))
        rows = [as_dict(account) for account in accounts.order_by("client_number")]
        text = "\n".join(
            f"{row['client_number']} {row['kind']} {row['postal_code']} {row['cbe']} {row['enterprise']}: "
            f"{len(row['contacts'])} contact(s), {len(row['contracts'])} contract(s), "
            f"{row['linked_people']} linked"
            for row in rows
        )
        emit(self, rows, options["json"], text)
