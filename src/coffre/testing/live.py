"""Start the production HTTP server (gunicorn with coffre/gunicorn_conf.py) on the test database.

Used by the ``gunicorn_server`` fixture and by anything else that needs Coffre served for real.
The listening socket is created here and handed to gunicorn (``--bind fd://N``), so that the port
is known before the server starts and no other process can take it in between.

The server must see the data the test commits, so it needs the *test* database:
- SQLite: the test database is the file ``<COFFRE_VAR_DIR>/coffre.sqlite3`` (set up by
  ``coffre.testing.environment``), and the server runs with the same ``COFFRE_VAR_DIR``;
- PostgreSQL: the server gets a ``DATABASE_URL`` naming the test database pytest-django created.
Tests using it must commit their data (pytest-django's ``transactional_db``): the ``db`` fixture
keeps everything in a transaction that another process never sees.
"""

import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connections


class ServerFailed(RuntimeError):
    """The server did not start, or died."""


def listening_socket(host: str = "127.0.0.1") -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def free_port(host: str = "127.0.0.1") -> int:
    """A port free right now (for servers that bind by themselves, e.g. ``coffre run``)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def database_environment(alias: str = "default") -> dict[str, str]:
    """Environment variables that make a subprocess use the database ``alias`` uses now."""
    db = connections[alias].settings_dict
    vendor = connections[alias].vendor  # "sqlite" for coffre.core.sqlite (Django's, with a write gate)
    if vendor == "sqlite":
        expected = str(Path(settings.VAR_DIR) / "coffre.sqlite3")
        if str(db["NAME"]) != expected:
            raise ServerFailed(
                f"the SQLite test database is {db['NAME']}, not {expected}: a subprocess cannot open it "
                "(is coffre.testing.environment loaded, and the test using transactional_db?)"
            )
        return {"COFFRE_VAR_DIR": str(settings.VAR_DIR)}
    if vendor == "postgresql":
        user = quote(db.get("USER") or "", safe="")
        password = quote(db.get("PASSWORD") or "", safe="")
        credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
        host = quote(db.get("HOST") or "", safe="")
        port = f":{db['PORT']}" if db.get("PORT") else ""
        name = quote(db["NAME"], safe="")
        return {
            "COFFRE_VAR_DIR": str(settings.VAR_DIR),
            "DATABASE_URL": f"postgres://{credentials}{host}{port}/{name}",
        }
    raise ServerFailed(f"no subprocess support for database engine {db['ENGINE']}")


def child_environment(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(database_environment())
    env["DJANGO_SETTINGS_MODULE"] = "coffre.settings"
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def wait_for_http(
    host: str,
    port: int,
    *,
    process: subprocess.Popen | None = None,
    timeout: float = 60,
    path: str = "/",
    output: Path | None = None,
) -> None:
    """Wait until an HTTP request to host:port gets any answer; fail early if ``process`` dies."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise ServerFailed(f"the server exited with status {process.returncode}:\n{_tail(output)}")
        conn = http.client.HTTPConnection(host, port, timeout=5)
        try:
            conn.request("GET", path)
            conn.getresponse().read()
            return
        except OSError as exc:
            last_error = exc
        finally:
            conn.close()
        time.sleep(0.1)
    raise ServerFailed(f"no HTTP answer on {host}:{port} after {timeout}s ({last_error}):\n{_tail(output)}")


def _tail(path: Path | None, lines: int = 40) -> str:
    if path is None or not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def stop_process(process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


class GunicornServer:
    """``with GunicornServer() as server: urlopen(server.url + "/admin/login/")``."""

    def __init__(self, *, workers: int = 1, threads: int = 4, env: dict[str, str] | None = None):
        self.workers = workers
        self.threads = threads
        self.extra_env = env or {}
        self.process: subprocess.Popen | None = None
        self.url = ""
        self.log_path: Path | None = None

    def start(self) -> "GunicornServer":
        sock = listening_socket()
        host, port = sock.getsockname()[:2]
        handle, log_name = tempfile.mkstemp(prefix="gunicorn-", suffix=".log", dir=settings.VAR_DIR)
        self.log_path = Path(log_name)
        env = child_environment(
            COFFRE_WEB_WORKERS=str(self.workers), COFFRE_WEB_THREADS=str(self.threads), **self.extra_env
        )
        try:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "--config",
                    "python:coffre.gunicorn_conf",
                    "--bind",
                    f"fd://{sock.fileno()}",
                    "coffre.wsgi:application",
                ],
                env=env,
                pass_fds=[sock.fileno()],
                stdout=handle,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        finally:
            os.close(handle)
            sock.close()  # gunicorn holds its own copy
        self.url = f"http://{host}:{port}"
        try:
            wait_for_http(host, port, process=self.process, output=self.log_path)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def __enter__(self) -> "GunicornServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
