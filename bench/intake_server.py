"""The SMTP server of the intake phase: Coffre's own (``coffre.smtpd.server``), in a process of its own.

``intake_server.py --mode intake|discard --port PORT`` (run by ``bench/intake.py`` with Django
pointed at the phase's var directory) prints ``ready <recipient>`` and serves until SIGTERM:

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
import asyncio
import os
import signal
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
    from coffre.smtpd.routes import ROUTES
    from coffre.smtpd.server import Handler, start_server, stop_server

    routes = ROUTES if args.mode == "intake" else [DiscardRoute()]
    recipient = space_address()

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        server = await start_server(
            Handler(routes=routes, max_recipients=5), host="127.0.0.1", port=args.port
        )
        print(f"ready {recipient}", flush=True)
        await stop.wait()
        await stop_server(server)

    asyncio.run(serve())


if __name__ == "__main__":
    main()
