"""Real SMTP servers for the tests, each in a thread of its own with its own event loop.

- ``ScriptedRelay``: an aiosmtpd handler playing the relay Coffre hands its mail to. It answers
  ``RCPT TO`` and ``DATA`` from scripts (e.g. ``rcpt=["451 4.3.0 Try again later"]`` then the
  default ``250``), and keeps every message it accepted, as the bytes received.
- ``ServerThread(start)``: runs ``await start()`` (which returns a listening ``asyncio.Server``) in
  a new thread and loop; ``with ServerThread(...) as server: server.port``. Used for the relay and
  for Coffre's own server (``coffre.smtpd.server.start_server``).
- ``relay_settings(settings, port)``: points Django's SMTP backend at 127.0.0.1:port.

The listening socket is bound before the server starts (port 0), so no other process can take
the port in between.
"""

import asyncio
import threading
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiosmtpd.smtp import SMTP, AuthResult

from coffre.testing.live import listening_socket


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes


class ScriptedRelay:
    def __init__(self, *, rcpt: list[str] | None = None, data: list[str] | None = None):
        self.rcpt_replies = list(rcpt or [])
        self.data_replies = list(data or [])
        self.received: list[Received] = []  # the messages accepted
        self.data_attempts: list[bytes] = []  # every message offered, accepted or not
        self.rcpt_attempts = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpt_attempts += 1
        reply = self.rcpt_replies.pop(0) if self.rcpt_replies else "250 2.1.5 OK"
        if reply.startswith("250"):
            envelope.rcpt_tos.append(address)
        return reply

    async def handle_DATA(self, server, session, envelope):
        reply = self.data_replies.pop(0) if self.data_replies else "250 2.0.0 Queued"
        data = envelope.original_content or envelope.content
        self.data_attempts.append(data)
        if reply.startswith("250"):
            self.received.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos), data))
        return reply


def refuse_every_login(server, session, envelope, mechanism, auth_data):
    return AuthResult(success=False, handled=False)


async def _stop(server: asyncio.Server) -> None:
    from coffre.smtpd.server import stop_server  # closes Coffre's handler too, when it is one

    await stop_server(server)


class ServerThread:
    def __init__(self, start: Callable[[], Awaitable[asyncio.Server]]):
        self._start = start
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._run, name="test-smtp-server", daemon=True)
        self.port = 0

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            self._server = loop.run_until_complete(self._start())
            self.port = self._server.sockets[0].getsockname()[1]
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(_stop(self._server))
            loop.close()

    def __enter__(self) -> "ServerThread":
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("the test SMTP server did not start")
        if self._error is not None:
            raise self._error
        return self

    def __exit__(self, *exc_info) -> None:
        if self._loop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)


def relay_server(handler, *, auth: bool = False) -> ServerThread:
    """A relay on 127.0.0.1 answering as ``handler`` says; ``auth``: it asks for a login and refuses it."""
    sock = listening_socket()

    async def start() -> asyncio.Server:
        def make() -> SMTP:
            if auth:
                with warnings.catch_warnings():  # a login without TLS: on loopback, on purpose
                    warnings.simplefilter("ignore", UserWarning)
                    return SMTP(
                        handler, hostname="relay.test", authenticator=refuse_every_login,
                        auth_require_tls=False, auth_required=True,
                    )
            return SMTP(handler, hostname="relay.test")

        return await asyncio.get_running_loop().create_server(make, sock=sock)

    return ServerThread(start)


def relay_settings(settings, port: int, *, user: str = "", password: str = "") -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = user
    settings.EMAIL_HOST_PASSWORD = password
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
