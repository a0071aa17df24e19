"""A second Coffre instance for the tests: its own data directory, SQLite database and gunicorn.

``with SecondInstance() as other: ...`` migrates a fresh ``COFFRE_VAR_DIR`` in a temporary
directory, registers a sender institution (enterprise, reference data, a publishing webservice
client), and serves it with the production server on a free loopback port. Everything is set up
through its ``coffre`` command, as an operator would, and messages arrive through its publication
API (``publish``), as an institution sends them: the tests of the e-Box DocConsumer agent read
it as they would read the official e-Box, over real HTTP and real OAuth2.

It shares nothing with the test run's own database (``coffre.testing.live`` serves that one).
Private keys stay in the temporary directory, removed at the end.
"""

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from coffre.agents.providers.docconsumer_setup import new_key_and_certificate
from coffre.core.cbe import make_cbe
from coffre.oauth.assertions import load_private_key, sign_assertion
from coffre.testing.live import listening_socket, stop_process, wait_for_http

REGISTRY_PATH = "/REST/ebox/enterprise/messageRegistry/v2/"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SENDER = make_cbe(4_067_980)  # the institution that publishes
APPLICATION = "COTISATIONS"
MESSAGE_TYPE = "AVIS"
COMMAND_TIMEOUT = 120


class InstanceFailed(RuntimeError):
    """A step of the set-up failed (the message says which, with the command's error output)."""


@dataclass(frozen=True)
class Reader:
    """A webservice client of an enterprise, as the DocConsumer set-up makes it."""

    enterprise: str
    client_id: str
    private_key_pem: str = field(repr=False)
    certificate_pem: str = field(repr=False)


class SecondInstance:
    def __init__(self):
        self.directory = Path(tempfile.mkdtemp(prefix="coffre-second-"))
        self.var_dir = self.directory / "var"
        self.process: subprocess.Popen | None = None
        self.url = ""
        self.log_path = self.directory / "server.log"
        self.env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith("COFFRE_") and name not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")
        }
        self.env.update(
            {"COFFRE_VAR_DIR": str(self.var_dir), "DJANGO_SETTINGS_MODULE": "coffre.settings", "PYTHONUNBUFFERED": "1"}
        )
        self._sender_key = ""
        self.sender_client_id = ""
        self._enterprises = 0

    # --- the coffre command --------------------------------------------------------------------------

    def coffre(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "coffre.cli", *args],
            env=self.env,
            cwd=self.directory,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
        )
        if done.returncode != 0:
            raise InstanceFailed(f"coffre {' '.join(args[:2])} failed ({done.returncode}): {done.stderr[-2000:]}")
        return done.stdout

    def coffre_json(self, *args: str):
        return json.loads(self.coffre(*args, "--json").strip().splitlines()[-1])

    # --- set-up --------------------------------------------------------------------------------------

    def start(self) -> "SecondInstance":
        self.var_dir.mkdir()
        self.coffre("migrate", "--noinput")
        self.coffre("enterprise", "add", SENDER, "--name", "Office des cotisations", "--json")
        self.coffre(
            "refdata", "organization", SENDER,
            "--short-name", "fr=Office des cotisations", "--short-name", "nl=Bijdragedienst",
            "--json",
        )
        self.coffre(
            "refdata", "application", APPLICATION, "--name", "fr=Cotisations", "--organization", SENDER, "--json"
        )
        self.coffre(
            "refdata", "message-type", MESSAGE_TYPE,
            "--name", "fr=Avis de paiement", "--name", "nl=Betalingsbericht",
            "--validity", "1y", "--organization", SENDER, "--application", APPLICATION,
            "--json",
        )
        self._sender_key, certificate = new_key_and_certificate("Office des cotisations")
        self.sender_client_id = self._register(SENDER, certificate, ["publicationsender"])
        self._serve()
        return self

    def _register(self, enterprise: str, certificate_pem: str, scopes: list[str]) -> str:
        path = self.directory / f"{enterprise}-{len(scopes)}-{hashlib.sha256(certificate_pem.encode()).hexdigest()[:8]}.pem"
        path.write_text(certificate_pem)
        scope_args = [part for scope in scopes for part in ("--scope", scope)]
        created = self.coffre_json("client", "create", "--enterprise", enterprise, "--certificate", str(path), *scope_args)
        return created["client_id"]

    def _serve(self) -> None:
        sock = listening_socket()
        host, port = sock.getsockname()[:2]
        log = open(self.log_path, "wb")
        try:
            self.process = subprocess.Popen(
                [
                    sys.executable, "-m", "gunicorn", "--config", "python:coffre.gunicorn_conf",
                    "--bind", f"fd://{sock.fileno()}", "coffre.wsgi:application",
                ],
                env={**self.env, "COFFRE_WEB_WORKERS": "1", "COFFRE_WEB_THREADS": "4"},
                cwd=self.directory,
                pass_fds=[sock.fileno()],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        finally:
            log.close()
            sock.close()
        self.url = f"http://{host}:{port}"
        wait_for_http(host, port, process=self.process, output=self.log_path, path="/.well-known/oauth-authorization-server")

    def new_reader(self, name: str, scopes: tuple[str, ...] = ("messagesfull", "referencedata")) -> Reader:
        """A new enterprise (its e-Box) and its DocConsumer client, set up as the docs tell."""
        self._enterprises += 1
        enterprise = make_cbe(4_567_890 + self._enterprises)
        self.coffre("enterprise", "add", enterprise, "--name", name, "--json")
        private_key, certificate = new_key_and_certificate(f"Coffre DocConsumer {enterprise}")
        client_id = self._register(enterprise, certificate, list(scopes))
        return Reader(enterprise, client_id, private_key, certificate)

    # --- the running instance ------------------------------------------------------------------------

    @property
    def registry_url(self) -> str:
        return self.url + REGISTRY_PATH

    @property
    def token_url(self) -> str:
        return self.url + "/oauth2/token"

    def _sender_token(self) -> str:
        assertion = sign_assertion(self.sender_client_id, load_private_key(self._sender_key), self.token_url)
        response = httpx.post(
            self.token_url,
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": assertion,
            },
            timeout=30,
        )
        response.raise_for_status()
        return response.json()["access_token"]

    def publish(
        self,
        recipient: str,
        subject: dict,
        files: list[tuple[str, str, bytes, bool]],
        *,
        body: dict | None = None,
        body_main: bool = False,
        payment: dict | None = None,
    ) -> str:
        """Publish a message to ``recipient`` through the API; ``files`` = (file name, media type,
        content, main content). Returns its messageId."""
        attachments, parts = [], []
        for number, (file_name, media_type, content, main) in enumerate(files, start=1):
            digest = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).decode().rstrip("=")
            attachments.append(
                {
                    "httpPartName": f"upfile{number}",
                    "mainContent": main,
                    "digest": {"digestMethod": "sha_256", "digestValue": digest},
                }
            )
            parts.append((f"upfile{number}", (file_name, content, media_type)))
        description = {
            "recipient": {"eboxType": "enterprise", "eboxIdValue": recipient},
            "subject": subject,
            "messageTypeId": MESSAGE_TYPE,
            "senderOrganizationId": SENDER,
            "senderApplicationId": APPLICATION,
            "bodyMainContent": body_main,
            "replyAuthorized": False,
            "attachments": attachments,
        }
        if body is not None:
            description["bodyContent"] = body
        if payment is not None:
            description["paymentData"] = payment
        response = httpx.post(
            self.registry_url + "publishMessage",
            headers={"Authorization": f"Bearer {self._sender_token()}"},
            files=[("messageToPublish", (None, json.dumps(description), "application/json")), *parts],
            timeout=60,
        )
        if response.status_code != 201:
            raise InstanceFailed(f"publication refused: {response.status_code} {response.text[:500]}")
        return response.json()["messageId"]

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None

    def close(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> "SecondInstance":
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc_info) -> None:
        self.close()
