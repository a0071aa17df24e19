"""A throw-away Coffre instance for the contract checks, set up only through the ``coffre`` CLI.

Fresh ``COFFRE_VAR_DIR`` (SQLite), ``coffre migrate``, ``coffre demo --json``, a dedicated
``conformance`` client of the demo enterprise with the five scopes (key and certificate made
here), a never-consulted recipient with a reader client of its own (the event feed's tenancy),
the demo enterprise as a sender organization (replies to institutions), logos; then the
production server (gunicorn, gthread workers) on a free loopback port. ``close()`` stops the
server and removes the directory, whatever happened before.

Private keys stay in the throw-away directory; tokens and assertions are never printed.
"""

import datetime as dt
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import requests

from coffre.core.cbe import make_cbe

API_ROOT = "/REST/ebox/enterprise/messageRegistry/v2"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SCOPE_PREFIX = "scope:document:management:consult:ws-eboxrestentreprise:"
ALL_SCOPES = tuple(
    SCOPE_PREFIX + name
    for name in ("summaryownebox", "summaryallebox", "messagesfull", "referencedata", "publicationsender")
)
REFERENCE_DATA_SCOPE = SCOPE_PREFIX + "referencedata"
#: A never-consulted enterprise registered for the NO_DIGITAL_USER check.
NEWCOMER = make_cbe(7_770_001)
REPLY_TYPE = "REPONSE"
READY_TIMEOUT = 60
COMMAND_TIMEOUT = 300


class SetupError(Exception):
    """The instance could not be set up (the message says which step and why)."""


@dataclass(frozen=True)
class WebserviceClient:
    name: str
    client_id: str
    enterprise: str
    private_key: Path = field(repr=False)


@dataclass
class Instance:
    """What the checks need to know about the running instance."""

    base_url: str
    demo_enterprise: str
    institution: str  # ONSS: publishes to the demo enterprise
    other_institution: str  # SPF Finances
    newcomer: str
    conformance: WebserviceClient
    sender: WebserviceClient  # the demo's ONSS sender client
    organization_logo: tuple[str, str]  # (organizationId, imageId)
    application_logo: tuple[str, str]  # (applicationId, imageId)
    logo_bytes: bytes = field(repr=False)
    reply_type: str = REPLY_TYPE
    newcomer_reader: WebserviceClient | None = None  # messagesfull of the newcomer (event feed tenancy)

    @property
    def root(self) -> str:
        return self.base_url + API_ROOT


def tiny_png(width: int = 2, height: int = 2) -> bytes:
    """A valid RGB PNG (the logo of the sender organization and application)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xd4\x2a\x1c" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _key_and_certificate(directory: Path, name: str) -> tuple[Path, Path]:
    """A client's key and self-signed certificate, as the DocConsumer setup makes them, in files."""
    from coffre.agents.providers.docconsumer_setup import new_key_and_certificate

    key_pem, certificate_pem = new_key_and_certificate(f"Coffre {name}", validity=dt.timedelta(days=30))
    key_path, cert_path = directory / f"{name}.key.pem", directory / f"{name}.cert.pem"
    descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key_pem)
    cert_path.write_text(certificate_pem)
    return key_path, cert_path


class Server:
    """Owns the throw-away directory and the gunicorn process; use as a context manager."""

    def __init__(self, keep: bool = False, say=print, database_url: str | None = None):
        self.keep = keep
        self.say = say
        self.directory = Path(tempfile.mkdtemp(prefix="coffre-conformance-"))
        self.var_dir = self.directory / "var"
        self.log_path = self.directory / "server.log"
        self.process: subprocess.Popen | None = None
        self.port = 0
        self.env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith("COFFRE_") and name != "DATABASE_URL"
        }
        self.env.update(
            {
                "COFFRE_VAR_DIR": str(self.var_dir),
                "DJANGO_SETTINGS_MODULE": "coffre.settings",
                "PYTHONUNBUFFERED": "1",
            }
        )
        if database_url:  # an empty PostgreSQL database instead of the embedded SQLite default
            self.env["DATABASE_URL"] = database_url
        self.tokens: dict[tuple[str, str | None], str] = {}

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- the coffre command ---------------------------------------------------------------------

    def coffre(self, *args: str) -> str:
        """Run ``coffre ARGS`` against the throw-away instance; its standard output."""
        command = [sys.executable, "-m", "coffre.cli", *args]
        try:
            done = subprocess.run(
                command,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=COMMAND_TIMEOUT,
                cwd=self.directory,
            )
        except subprocess.TimeoutExpired:
            raise SetupError(f"coffre {args[0]} did not finish within {COMMAND_TIMEOUT} s") from None
        if done.returncode != 0:
            tail = "\n".join(done.stderr.strip().splitlines()[-15:])
            raise SetupError(f"coffre {' '.join(args[:2])} failed (exit {done.returncode}):\n{tail}")
        return done.stdout

    def coffre_json(self, *args: str):
        output = self.coffre(*args).strip()
        try:
            return json.loads(output.splitlines()[-1] if output else "")
        except ValueError:
            raise SetupError(f"coffre {' '.join(args[:2])} did not print JSON") from None

    # --- set-up -----------------------------------------------------------------------------------

    def provision(self) -> Instance:
        self.var_dir.mkdir()
        self.coffre("migrate", "--noinput")
        demo = self.coffre_json("demo", "--json")
        bakery = demo["demo_enterprise"]
        clients = demo["clients"]
        sender = WebserviceClient(
            "sender",
            clients["sender"]["client_id"],
            clients["sender"]["enterprise"],
            Path(clients["sender"]["private_key"]),
        )
        institution = sender.enterprise
        other_institution = clients["spf-sender"]["enterprise"]

        key_path, cert_path = _key_and_certificate(self.directory, "conformance")
        scope_args = [arg for scope in ALL_SCOPES for arg in ("--scope", scope)]
        created = self.coffre_json(
            "client",
            "create",
            "--enterprise",
            bakery,
            "--certificate",
            str(cert_path),
            *scope_args,
            "--name",
            "conformance checks",
            "--json",
        )
        if sorted(created["scopes"]) != sorted(ALL_SCOPES):
            raise SetupError(f"the conformance client got the scopes {created['scopes']}")
        conformance = WebserviceClient("conformance", created["client_id"], bakery, key_path)

        self.coffre("enterprise", "add", NEWCOMER, "--name", "Nouvelle Entreprise SRL", "--json")
        # The newcomer's own software: it reads its event feed, and never the demo enterprise's.
        newcomer_key, newcomer_cert = _key_and_certificate(self.directory, "newcomer")
        newcomer_client = self.coffre_json(
            "client",
            "create",
            "--enterprise",
            NEWCOMER,
            "--certificate",
            str(newcomer_cert),
            "--scope",
            SCOPE_PREFIX + "messagesfull",
            "--name",
            "newcomer reader",
            "--json",
        )
        newcomer_reader = WebserviceClient(
            "newcomer reader", newcomer_client["client_id"], NEWCOMER, newcomer_key
        )
        # The demo enterprise replies to institutions (bidirectional flow): it is a sender too.
        self.coffre(
            "refdata",
            "organization",
            bakery,
            "--short-name",
            "fr=Boulangerie Dupont",
            "--short-name",
            "nl=Bakkerij Dupont",
            "--json",
        )
        self.coffre(
            "refdata",
            "message-type",
            REPLY_TYPE,
            "--name",
            "fr=Réponse",
            "--name",
            "nl=Antwoord",
            "--name",
            "de=Antwort",
            "--validity",
            "1y",
            "--organization",
            bakery,
            "--json",
        )
        logo = tiny_png()
        logo_path = self.directory / "logo.png"
        logo_path.write_bytes(logo)
        organization_logo = self.coffre_json(
            "refdata", "logo", "--organization", institution, str(logo_path), "--language", "fr", "--json"
        )
        application_logo = self.coffre_json(
            "refdata", "logo", "--application", "DMFA", str(logo_path), "--json"
        )
        self.start()
        return Instance(
            base_url=self.base_url,
            demo_enterprise=bakery,
            institution=institution,
            other_institution=other_institution,
            newcomer=NEWCOMER,
            conformance=conformance,
            sender=sender,
            organization_logo=(institution, organization_logo["imageId"]),
            application_logo=("DMFA", application_logo["imageId"]),
            logo_bytes=logo,
            newcomer_reader=newcomer_reader,
        )

    def start(self) -> None:
        """Start gunicorn (gthread workers) on a free loopback port and wait until it answers."""
        self.port = _free_port()
        log = open(self.log_path, "ab")
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            "python:coffre.gunicorn_conf",
            "coffre.wsgi:application",
            "--workers",
            "2",
            "--threads",
            "4",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--timeout",
            "60",
            "--graceful-timeout",
            "5",
        ]
        self.process = subprocess.Popen(
            command, env=self.env, cwd=self.directory, stdout=log, stderr=log, start_new_session=True
        )
        log.close()
        deadline = time.monotonic() + READY_TIMEOUT
        probe = self.base_url + "/.well-known/oauth-authorization-server"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SetupError(f"gunicorn exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if requests.get(probe, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise SetupError(f"the server did not answer within {READY_TIMEOUT} s:\n{self.log_tail()}")

    def token(self, client: WebserviceClient, scope: str | None = None) -> str:
        """An access token from the real token endpoint (``private_key_jwt``, assertion by the CLI)."""
        key = (client.client_id, scope)
        if key not in self.tokens:
            endpoint = self.base_url + "/oauth2/token"
            assertion = self.coffre(
                "client",
                "assertion",
                "--client-id",
                client.client_id,
                "--key",
                str(client.private_key),
                "--audience",
                endpoint,
            ).strip()
            data = {
                "grant_type": "client_credentials",
                "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": assertion,
            }
            if scope:
                data["scope"] = scope
            response = requests.post(endpoint, data=data, timeout=30)
            if response.status_code != 200:
                raise SetupError(
                    f"the token endpoint refused {client.name}: {response.status_code} {response.text[:300]}"
                )
            body = response.json()
            if scope and body.get("scope") != scope:
                raise SetupError(f"{client.name} asked for {scope} and got {body.get('scope')}")
            self.tokens[key] = body["access_token"]
        return self.tokens[key]

    # --- teardown -----------------------------------------------------------------------------------

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def log_errors(self, limit: int = 60) -> list[str]:
        """Error lines and tracebacks the server logged (for server errors found by the checks)."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
        found, in_traceback = [], False
        for line in text.splitlines():
            if line.startswith("Traceback"):
                in_traceback = True
                found.append(line)
            elif in_traceback:
                found.append(line)
                in_traceback = line.startswith((" ", "\t")) or not line
            elif " ERROR " in line or " CRITICAL " in line:
                found.append(line)
        return found[-limit:]

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)  # gunicorn's own session: the arbiter and its workers
            process.wait(timeout=15)
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)

    def close(self) -> None:
        try:
            self.stop()
        finally:
            if self.keep:
                self.say(f"kept the instance's directory: {self.directory}")
            else:
                shutil.rmtree(self.directory, ignore_errors=True)
