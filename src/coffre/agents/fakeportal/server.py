"""Serve the fake provider portal over real HTTP from a thread, on a free port of 127.0.0.1.

``with serve(state) as portal: ...`` gives ``portal.url`` (ending with "/") while a threaded
``wsgiref`` server answers; leaving the block shuts it down and closes its socket. Used by the
tests and the bench; the demo mounts the portal in Coffre instead (``views.py``). Its request log
goes to the ``coffre.agents.fakeportal`` logger at debug level (paths only, never a form).
"""

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from coffre.agents.fakeportal.app import FakePortal
from coffre.agents.fakeportal.state import PortalState

logger = logging.getLogger("coffre.agents.fakeportal")


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        logger.debug("fake portal: " + format, *args)


@dataclass
class RunningPortal:
    url: str  # e.g. http://127.0.0.1:41234/
    state: PortalState
    port: int
    portal: FakePortal


@contextmanager
def serve(state: PortalState | None = None, host: str = "127.0.0.1") -> Iterator[RunningPortal]:
    state = state or PortalState()
    portal = FakePortal(state)
    server = make_server(host, 0, portal, server_class=_ThreadingServer,
                         handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="fake-portal", daemon=True)
    thread.start()
    port = server.server_address[1]
    try:
        yield RunningPortal(url=f"http://{host}:{port}/", state=state, port=port, portal=portal)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
