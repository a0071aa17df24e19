"""``coffre smtpd``: Coffre's SMTP server (bounces of outgoing mail, documents sent by e-mail to the
spaces; coffre.smtpd.server).

Listens on ``--listen`` or COFFRE_SMTP_LISTEN (default 127.0.0.1:2525) until SIGINT/SIGTERM, in
COFFRE_SMTPD_PROCESSES processes sharing the socket; exits with status 1 when one of them died.
"""

import logging

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from coffre.smtpd.server import ServerProcessDied, parse_listen, serve

logger = logging.getLogger("coffre.smtpd")


class Command(BaseCommand):
    help = "Run Coffre's SMTP server (bounces of outgoing mail, documents by e-mail) until SIGINT or SIGTERM."

    def add_arguments(self, parser):
        parser.add_argument(
            "--listen", help="host:port to listen on (default: COFFRE_SMTP_LISTEN, 127.0.0.1:2525)"
        )

    def handle(self, *args, listen: str | None, **options):
        value = listen or settings.COFFRE_SMTP_LISTEN
        try:
            host, port = parse_listen(value)
        except ValueError:
            raise CommandError(f"--listen must be host:port, got {value!r}") from None
        if not settings.COFFRE_BOUNCE_DOMAIN:
            logger.warning("smtpd: COFFRE_BOUNCE_DOMAIN is not set: no bounce address will be taken")
        connections.close_all()

        def ready(server) -> None:
            for sock in server.sockets:
                address = sock.getsockname()
                self.stdout.write(f"Coffre SMTP server listening on {address[0]}:{address[1]}")
            self.stdout.flush()

        try:
            serve(host, port, on_ready=ready)
        except OSError as exc:
            raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        except ServerProcessDied as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write("Coffre SMTP server stopped")
