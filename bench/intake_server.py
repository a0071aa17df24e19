"""The SMTP server of the intake phase: Coffre's own (``coffre.smtpd.server``), in a process of its own.

``intake_server.py --mode intake|discard --port PORT`` (run by ``bench/intake.py`` with Django
pointed at the phase's var directory) prints ``ready <recipient>`` and serves until SIGTERM, as
``coffre smtpd`` does (``coffre.smtpd.server.serve``: ``COFFRE_SMTPD_PROCESSES`` processes):

- ``intake``: Coffre's real routes (``coffre.smtpd.routes.ROUTES``), as ``coffre smtpd`` runs
  them. The recipient is the intake address of the "Documents" space of an enterprise created
  here, and the bench sender's address is authorized by it, so every mail goes the whole way:
  the space from the address, sender authentication (SPF and DMARC looked up in the DNS server
  the bench runs, ``COFFRE_DNS_NAMESERVERS``), the rules, ``mime.extract``, the documents written
  encrypted, and one transaction for the message, the activity, the audit record and the event;
- ``discard``: accepts the mail and does nothing with it: the limit (what receiving the same
  mails over SMTP costs this server, before any intake work).
"""

import argparse
import os
from pathlib import Path

import common


class DiscardRoute:
    """A ``coffre.smtpd.routes.Route`` (duck-typed: that module needs Django set up) taking all."""

    name = "bench-discard"

    def accepts(self, recipient: str) -> bool:
        return True

    def refusal(self, recipient: str) -> None:
        return None

    def handle_message(self, deliveries) -> None:
        return None

    def handle(self, delivery) -> None:
        return None


SENDER = "factures@fournisseur.example"
ENTERPRISE = "0403170701"


def space_address() -> str:
    """The intake address of the bench enterprise's Documents space; its supplier authorized."""
    from coffre.accounts.services import register_enterprise
    from coffre.audit.services import Actor
    from coffre.intake import selectors, services
    from coffre.intake.models import Approvers, SenderApproval, SenderStatus
    from coffre.mailbox.models import Ebox

    actor = Actor.cli("bench")
    enterprise = register_enterprise(ENTERPRISE, "Entreprise du bench", actor).enterprise
    SenderApproval.objects.update_or_create(
        enterprise=enterprise,
        address=SENDER,
        defaults={"status": SenderStatus.AUTHORIZED, "approvers": Approvers.CLIENT_ADMIN},
    )
    box = Ebox.objects.get(enterprise=enterprise, owner=None)
    return selectors.full_address(services.address_for(box, "documents", actor))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["intake", "discard"], required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    common.setup_django(Path(os.environ["COFFRE_VAR_DIR"]))
    from django.db import connections

    from coffre.smtpd.routes import ROUTES
    from coffre.smtpd.server import serve

    recipient = space_address()
    connections.close_all()  # before the server processes are forked
    serve(
        "127.0.0.1",
        args.port,
        routes=ROUTES if args.mode == "intake" else [DiscardRoute()],
        on_ready=lambda server: print(f"ready {recipient}", flush=True),
    )


if __name__ == "__main__":
    main()
