"""Coffre's SMTP server (aiosmtpd): accepts mail for the addresses a route takes, refuses the rest.

The conversation:
- ``RCPT TO``: a recipient no route takes gets ``550 5.1.1``; past ``COFFRE_SMTPD_MAX_RECIPIENTS``
  recipients, ``452 4.5.3``. A route may look the recipient up in the database (in a worker
  thread) and refuse it (the intake: an unknown space address, ``550 5.1.1``).
- ``DATA``: larger than ``COFFRE_SMTPD_MAX_MESSAGE_SIZE`` -> ``552`` (aiosmtpd); else each route
  handles the message for the recipients it took, in one of ``COFFRE_SMTPD_THREADS`` worker
  threads (Django's ORM is synchronous; several messages are handled at once, so that one
  waiting for DNS or the disk does not hold up the others). The answer is ``250`` once all have; a route's own reply when it gives one (the
  intake: ``550 5.7.1``, ``451 4.7.0``), a temporary one first; ``451 4.3.0`` when one could not
  (the sender retries, so nothing is lost).

No TLS and no authentication: the server receives bounces and documents from the internet's mail
servers (put it behind port 25 of the bounce and intake domains' MX, or let the MX relay to it).
It never logs a message's content.
"""

import asyncio
import logging
import os
import signal
import socket
import threading
from concurrent.futures import ThreadPoolExecutor, wait

from aiosmtpd.smtp import SMTP
from django.conf import settings
from django.db import close_old_connections, connections

from coffre.smtpd.routes import Delivery, Route, TemporaryFailure, route_for

logger = logging.getLogger("coffre.smtpd")

IDENT = "Coffre ESMTP"
REFUSED = (
    "550 5.1.1 No such recipient here: this server only takes bounces of the mail Coffre sent and"
    " documents sent to the addresses of Coffre's spaces"
)
TOO_MANY = "452 4.5.3 Too many recipients for one message"
RETRY_LATER = "451 4.3.0 Temporary failure, please try again later"
ACCEPTED = "250 2.0.0 Message accepted"


class Handler:
    """The aiosmtpd handler: checks recipients against the routes and hands messages to them."""

    def __init__(
        self, routes: list[Route] | None = None, max_recipients: int | None = None, threads: int | None = None
    ):
        self.routes = routes
        self.max_recipients = max_recipients or settings.COFFRE_SMTPD_MAX_RECIPIENTS
        self.executor = ThreadPoolExecutor(
            max_workers=threads or settings.COFFRE_SMTPD_THREADS, thread_name_prefix="smtpd-route"
        )

    async def _in_thread(self, function, *args):
        return await asyncio.get_running_loop().run_in_executor(self.executor, function, *args)

    def close(self) -> None:
        """Close the worker threads' database connections (each thread keeps its own between
        messages, as ``CONN_MAX_AGE`` allows), then stop the threads."""
        workers = self.executor._max_workers
        barrier = threading.Barrier(workers)

        def close_own_connections() -> None:
            connections.close_all()
            try:
                barrier.wait(timeout=60)  # one job per thread: each waits for the others
            except threading.BrokenBarrierError:
                pass

        wait([self.executor.submit(close_own_connections) for _ in range(workers)])
        self.executor.shutdown(wait=True)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if len(envelope.rcpt_tos) >= self.max_recipients:
            return TOO_MANY
        route = route_for(address, self.routes)
        if route is None:
            logger.info("smtpd: refused a recipient from %s", _peer(session))
            return REFUSED
        try:
            refusal = await self._in_thread(self._refusal, route, address)
        except Exception:
            logger.exception("smtpd: a recipient from %s could not be checked", _peer(session))
            return RETRY_LATER
        if refusal is not None:
            logger.info("smtpd: refused a recipient of route %s from %s", route.name, _peer(session))
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    def _refusal(self, route: Route, address: str) -> str | None:
        close_old_connections()
        try:
            return route.refusal(address)
        finally:
            close_old_connections()

    async def handle_DATA(self, server, session, envelope):
        data = envelope.original_content or envelope.content or b""
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        mail_from = (envelope.mail_from or "").strip().strip("<>")
        helo = getattr(session, "host_name", None) or ""
        deliveries = [
            Delivery(recipient=recipient, mail_from=mail_from, data=data, peer=_peer(session), helo=str(helo))
            for recipient in envelope.rcpt_tos
        ]
        try:
            replies = await self._in_thread(self._handle_all, deliveries)
        except TemporaryFailure as exc:
            logger.warning("smtpd: message from %s deferred: %s", _peer(session), exc)
            return RETRY_LATER
        except Exception:
            logger.exception("smtpd: message from %s could not be handled", _peer(session))
            return RETRY_LATER
        return _answer(replies)

    def _handle_all(self, deliveries: list[Delivery]) -> list[str | None]:
        close_old_connections()
        try:
            by_route: dict[int, tuple[Route, list[Delivery]]] = {}
            for delivery in deliveries:
                route = route_for(delivery.recipient, self.routes)
                if route is not None:
                    by_route.setdefault(id(route), (route, []))[1].append(delivery)
            return [route.handle_message(taken) for route, taken in by_route.values()]
        finally:
            # As after a web request: a connection past CONN_MAX_AGE, or broken, is closed.
            close_old_connections()


def _answer(replies: list[str | None]) -> str:
    """One reply for the message: a temporary refusal first (the sender retries the whole
    message), a permanent one when every route refused, else the accepting route's own words."""
    given = [reply for reply in replies if reply]
    temporary = [reply for reply in given if reply.startswith("4")]
    if temporary:
        return temporary[0]
    permanent = [reply for reply in given if reply.startswith("5")]
    if permanent and len(permanent) == len(replies):
        return permanent[0]
    accepted = [reply for reply in given if reply.startswith("2")]
    return accepted[0] if len(accepted) == 1 and len(replies) == 1 else ACCEPTED


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
    handler = handler or Handler()
    factory = smtp_factory(handler)
    if sock is not None:
        server = await loop.create_server(factory, sock=sock)
    else:
        server = await loop.create_server(factory, host=host, port=port, reuse_address=True)
    server.handler = handler  # stop_server closes it
    return server


async def stop_server(server: asyncio.Server) -> None:
    """Stop accepting, close the open sessions, then the handler's threads and connections."""
    server.close()
    await server.wait_closed()
    handler = getattr(server, "handler", None)
    if handler is not None:
        await asyncio.get_running_loop().run_in_executor(None, handler.close)


def serve(
    host: str, port: int, *, processes: int | None = None, on_ready=None, routes: list[Route] | None = None
) -> None:
    """Serve until SIGINT or SIGTERM, then stop accepting and close the open sessions.

    ``processes`` (default ``COFFRE_SMTPD_PROCESSES``) server processes share one listening
    socket, bound here: one process runs on one core (Python's GIL), so more use more cores. The
    first is this process; the others are forked from it, stopped with it, and when one of them
    dies the whole server stops (its supervisor, ``coffre run``, starts it again).
    """
    processes = processes or settings.COFFRE_SMTPD_PROCESSES
    if processes == 1:
        asyncio.run(_serve(on_ready, routes, host=host, port=port))
        return
    sock = _listening_socket(host, port)
    children = []
    for _ in range(processes - 1):
        pid = os.fork()
        if pid == 0:  # a child: serve until told to stop, never return into the caller's code
            status = 0
            try:
                asyncio.run(_serve(None, routes, sock=sock))
            except BaseException:  # noqa: BLE001 - logged; the parent sees the exit status
                logger.exception("smtpd: a server process failed")
                status = 1
            finally:
                os._exit(status)
        children.append(pid)
    try:
        asyncio.run(_serve(on_ready, routes, sock=sock, children=children))
        if len(children) < processes - 1:
            raise ServerProcessDied("a server process died: the server stopped")
    finally:
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for pid in children:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        sock.close()


class ServerProcessDied(RuntimeError):
    pass


def _listening_socket(host: str, port: int) -> socket.socket:
    family = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0][0]
    sock = socket.create_server((host, port), family=family, backlog=128)
    sock.setblocking(False)
    return sock


async def _serve(on_ready, routes, *, host=None, port=None, sock=None, children=()) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    if children:
        loop.add_signal_handler(signal.SIGCHLD, _on_child_exit, children, stop)
    server = await start_server(Handler(routes=routes), host=host, port=port, sock=sock)
    if on_ready is not None:
        on_ready(server)
    await stop.wait()
    await stop_server(server)


def _on_child_exit(children: list[int], stop: asyncio.Event) -> None:
    for pid in children:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done, status = pid, 0
        if done:
            logger.error("smtpd: server process %s exited (status %s): stopping the server", pid, status)
            children.remove(pid)
            stop.set()
            return
