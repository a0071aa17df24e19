"""Coffre's SMTP server (aiosmtpd): accepts mail for the addresses a route takes, refuses the rest.

The conversation:
- ``RCPT TO``: a recipient no route takes gets ``550 5.1.1``; past ``COFFRE_SMTPD_MAX_RECIPIENTS``
  recipients, ``452 4.5.3``. Nothing is looked up in the database at this stage.
- ``DATA``: larger than ``COFFRE_SMTPD_MAX_MESSAGE_SIZE`` -> ``552`` (aiosmtpd); else each taken
  recipient's route handles the message, in a worker thread (Django's ORM is synchronous), and
  the answer is ``250`` once all have, or ``451 4.3.0`` when one could not (the sender retries,
  so nothing is lost).

No TLS and no authentication: the server receives bounces from the internet's mail servers (put
it behind port 25 of the bounce domain's MX, or let the MX relay to it). It never logs a message's
content.
"""

import asyncio
import logging
import signal
import socket

from aiosmtpd.smtp import SMTP
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections, connections

from coffre.smtpd.routes import Delivery, Route, TemporaryFailure, route_for

logger = logging.getLogger("coffre.smtpd")

IDENT = "Coffre ESMTP"
REFUSED = "550 5.1.1 No such recipient here: this server only takes bounces of the mail Coffre sent"
TOO_MANY = "452 4.5.3 Too many recipients for one message"
RETRY_LATER = "451 4.3.0 Temporary failure, please try again later"
ACCEPTED = "250 2.0.0 Message accepted"


class Handler:
    """The aiosmtpd handler: checks recipients against the routes and hands messages to them."""

    def __init__(self, routes: list[Route] | None = None, max_recipients: int | None = None):
        self.routes = routes
        self.max_recipients = max_recipients or settings.COFFRE_SMTPD_MAX_RECIPIENTS

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if len(envelope.rcpt_tos) >= self.max_recipients:
            return TOO_MANY
        if route_for(address, self.routes) is None:
            logger.info("smtpd: refused a recipient from %s", _peer(session))
            return REFUSED
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        data = envelope.original_content or envelope.content or b""
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        deliveries = [
            Delivery(recipient=recipient, mail_from=envelope.mail_from or "", data=data, peer=_peer(session))
            for recipient in envelope.rcpt_tos
        ]
        try:
            await sync_to_async(self._handle_all, thread_sensitive=True)(deliveries)
        except TemporaryFailure as exc:
            logger.warning("smtpd: message from %s deferred: %s", _peer(session), exc)
            return RETRY_LATER
        except Exception:
            logger.exception("smtpd: message from %s could not be handled", _peer(session))
            return RETRY_LATER
        return ACCEPTED

    def _handle_all(self, deliveries: list[Delivery]) -> None:
        close_old_connections()
        try:
            for delivery in deliveries:
                route = route_for(delivery.recipient, self.routes)
                if route is not None:
                    route.handle(delivery)
        finally:
            # One short connection per message: the server may idle for hours between bounces.
            connections.close_all()


def _peer(session) -> str:
    peer = getattr(session, "peer", None)
    if isinstance(peer, tuple) and peer:
        return str(peer[0])
    return str(peer or "?")


def parse_listen(value: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:2525`` for IPv6) -> (host, port)."""
    host, _, port = value.rpartition(":")
    return host.strip("[]"), int(port)


def smtp_factory(handler: Handler):
    def make() -> SMTP:
        return SMTP(
            handler,
            hostname=settings.COFFRE_SMTPD_HOSTNAME,
            ident=IDENT,
            data_size_limit=settings.COFFRE_SMTPD_MAX_MESSAGE_SIZE,
            decode_data=False,
            enable_SMTPUTF8=False,
        )

    return make


async def start_server(
    handler: Handler | None = None,
    *,
    host: str | None = None,
    port: int | None = None,
    sock: socket.socket | None = None,
) -> asyncio.Server:
    """Listen on ``sock`` (already bound) or ``host:port``; the server is serving when this returns."""
    loop = asyncio.get_running_loop()
    factory = smtp_factory(handler or Handler())
    if sock is not None:
        return await loop.create_server(factory, sock=sock)
    return await loop.create_server(factory, host=host, port=port, reuse_address=True)


def serve(host: str, port: int, *, on_ready=None) -> None:
    """Serve until SIGINT or SIGTERM, then stop accepting and close the open sessions."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        server = await start_server(host=host, port=port)
        if on_ready is not None:
            on_ready(server)
        await stop.wait()
        server.close()
        await server.wait_closed()

    asyncio.run(main())
