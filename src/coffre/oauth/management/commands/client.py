"""``coffre client``: register, list, show and revoke webservice clients; sign a test assertion.

    coffre client create --enterprise 0123.456.749 --certificate cert.pem --scope messagesfull [--json]
    coffre client list [--enterprise CBE] [--json]
    coffre client show CLIENT_ID [--json]
    coffre client revoke CLIENT_ID
    coffre client assertion --client-id ID --key private.pem [--audience URL] [--lifetime 300]

``create`` is idempotent (same enterprise and certificate: the same client, scopes brought up to
date) and prints only the client id, so that scripts can capture it. ``assertion`` prints a JWT
signed with a private key that never leaves this machine; it needs no database.
"""

import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from coffre.audit.services import Actor
from coffre.core.commands import emit
from coffre.oauth import selectors, services
from coffre.oauth.assertions import load_private_key, sign_assertion
from coffre.oauth.certificates import verification_key
from coffre.oauth.errors import ClientError
from coffre.oauth.models import WebserviceClient
from coffre.oauth.scopes import ALL_SCOPES, short_name

DEFAULT_ASSERTION_LIFETIME = 300


def client_as_dict(client: WebserviceClient) -> dict:
    certificate = verification_key(client.certificate_pem)[0]
    return {
        "client_id": client.client_id,
        "enterprise": client.enterprise.cbe,
        "name": client.name,
        "scopes": list(client.scopes),
        "active": client.active,
        "created_at": client.created_at.isoformat(),
        "certificate_sha256": client.certificate_sha256,
        "certificate_subject": certificate.subject,
        "certificate_not_before": certificate.not_before.isoformat(),
        "certificate_not_after": certificate.not_after.isoformat(),
    }


def _read(path: str, what: str) -> bytes:
    try:
        return sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read the {what} {path}: {exc.strerror}") from None


class Command(BaseCommand):
    help = "Manage webservice clients (OAuth2 private_key_jwt) of enterprises."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)

        create = sub.add_parser("create", help="register a client from its X.509 certificate (idempotent)")
        create.add_argument("--enterprise", required=True, help="CBE number of the enterprise")
        create.add_argument(
            "--certificate", required=True, help="PEM certificate file of the client ('-': stdin)"
        )
        create.add_argument(
            "--scope",
            action="append",
            required=True,
            dest="scopes",
            help="scope, full or short ("
            + ", ".join(short_name(s) for s in ALL_SCOPES)
            + "); repeat for several",
        )
        create.add_argument("--name", default="", help="a name for people (the software, the environment)")
        create.add_argument("--json", action="store_true", dest="as_json")

        listing = sub.add_parser("list", help="list clients")
        listing.add_argument("--enterprise", help="only the clients of this CBE number")
        listing.add_argument("--json", action="store_true", dest="as_json")

        show = sub.add_parser("show", help="show one client")
        show.add_argument("client_id")
        show.add_argument("--json", action="store_true", dest="as_json")

        revoke = sub.add_parser("revoke", help="deactivate a client for good and revoke its tokens")
        revoke.add_argument("client_id")

        assertion = sub.add_parser("assertion", help="print a signed RS256 client assertion (for scripts)")
        assertion.add_argument("--client-id", required=True)
        assertion.add_argument("--key", required=True, help="PEM private key of the client's certificate")
        assertion.add_argument(
            "--audience",
            help="token endpoint URL (default: COFFRE_BASE_URL or http://127.0.0.1:8000, then /oauth2/token)",
        )
        assertion.add_argument(
            "--lifetime",
            type=int,
            default=DEFAULT_ASSERTION_LIFETIME,
            help=f"seconds (default {DEFAULT_ASSERTION_LIFETIME})",
        )

    def handle(self, *args, action, **options):
        try:
            getattr(self, "_" + action)(**options)
        except ClientError as exc:
            raise CommandError(str(exc)) from None

    def _create(self, enterprise, certificate, scopes, name, as_json, **_):
        client, created = services.create_client(
            enterprise, _read(certificate, "certificate"), scopes, name, Actor.cli("client create")
        )
        if as_json:
            emit(self, {**client_as_dict(client), "created": created}, True, "")
        else:
            self.stdout.write(client.client_id)
            self.stderr.write(
                "client created" if created else "client already registered with this certificate"
            )

    def _list(self, enterprise, as_json, **_):
        clients = [client_as_dict(client) for client in selectors.list_clients(enterprise)]
        lines = [
            f"{c['client_id']}  {c['enterprise']}  {'active' if c['active'] else 'revoked'}  "
            f"{','.join(short_name(s) for s in c['scopes'])}  {c['name']}".rstrip()
            for c in clients
        ]
        emit(self, clients, as_json, "\n".join(lines))

    def _show(self, client_id, as_json, **_):
        data = client_as_dict(selectors.get_client(client_id))
        emit(
            self,
            data,
            as_json,
            "\n".join(
                f"{key}: {' '.join(value) if isinstance(value, list) else value}"
                for key, value in data.items()
            ),
        )

    def _revoke(self, client_id, **_):
        client = services.revoke_client(client_id, Actor.cli("client revoke"))
        self.stdout.write(f"{client.client_id} revoked")

    def _assertion(self, client_id, key, audience, lifetime, **_):
        maximum = settings.COFFRE_ASSERTION_MAX_LIFETIME
        if not 0 < lifetime <= maximum:
            raise CommandError(f"--lifetime must be between 1 and {maximum} seconds")
        audience = audience or (settings.COFFRE_BASE_URL or "http://127.0.0.1:8000") + "/oauth2/token"
        private_key = load_private_key(_read(key, "private key"))
        self.stdout.write(sign_assertion(client_id, private_key, audience, lifetime))
