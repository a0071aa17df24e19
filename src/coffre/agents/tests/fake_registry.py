"""A misbehaving e-Box registry for the DocConsumer tests: a real HTTP server on loopback.

The second Coffre instance (``coffre.testing.second_instance``) is a registry that keeps the
contract; this one answers what a test sets in ``routes`` (path -> status, body, content type),
so that the agent meets what a correct registry never says: a 503, a 403 on the messages, a page
that is not JSON, a content that does not match its digest. Its token endpoint grants any request.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN_PATH = "/oauth2/token"
ROOT = "/REST/ebox/enterprise/messageRegistry/v2/"


class FakeRegistry:
    def __init__(self):
        self.routes: dict[str, tuple[int, bytes, str]] = {}
        self.requests: list[tuple[str, str]] = []
        self.token_status = 200
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _answer(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                self.rfile.read(length)
                registry.requests.append(("POST", self.path))
                if self.path == TOKEN_PATH and registry.token_status == 200:
                    token = {"access_token": "fake-token", "token_type": "Bearer", "expires_in": 3600}
                    self._answer(200, json.dumps(token).encode(), "application/json")
                else:
                    self._answer(registry.token_status, b"<html>unavailable</html>", "text/html")

            def do_GET(self):
                registry.requests.append(("GET", self.path))
                path = self.path.split("?", 1)[0]
                status, body, content_type = registry.routes.get(
                    path, (404, b'{"id": "0", "code": "NOT_FOUND", "message": "Not found."}', "application/json")
                )
                self._answer(status, body, content_type)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def credentials(self, private_key_pem: str) -> dict:
        return {
            "registry_url": self.url + ROOT,
            "token_url": self.url + TOKEN_PATH,
            "client_id": "fake-client",
            "enterprise": "0456789034",
            "private_key": private_key_pem,
        }

    def json_route(self, path: str, body, status: int = 200) -> None:
        self.routes[ROOT + path] = (status, json.dumps(body).encode(), "application/json")

    def __enter__(self) -> "FakeRegistry":
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.server.shutdown()
        self.server.server_close()
