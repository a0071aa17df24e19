"""A throwaway Dovecot IMAP server for the tests: ``with Dovecot() as server: ...``.

Debian's ``dovecot-imapd`` (installed by ``scripts/ensure-debian-packages.sh dovecot-imapd``, which
``make test`` and ``.ci/run`` call) is started with a configuration of its own in a temporary
directory: Maildir mailboxes and a passwd-file of test users there, listening on two free ports
of 127.0.0.1 (IMAP with STARTTLS, and IMAPS) with a certificate of a test CA made here
(``server.ca_pem`` for the clients). No system file, service or port is touched. Every user name
logs in with ``server.password`` (a static passdb: a test takes a user name of its own and gets an
empty Maildir; a passwd-file would be re-read at most once a second).

Dovecot runs unprivileged, without chroot: as the current user, or as ``nobody`` when the tests
run as root (Dovecot's login processes refuse to run as root). Plain-text login is allowed (the
server only listens on loopback) and failed logins are answered at once (``auth_failure_delay``,
and no auth penalty: its socket is closed to everyone).

``with Dovecot() as server`` makes its own directory in the system's temporary directory (removed
at stop), reachable by ``nobody``. ``server.client(name, password)`` gives an IMAPClient logged in over
plain IMAP, to put mails in (``append``) or recreate a folder (a new UIDVALIDITY).
"""

import datetime as dt
import grp
import ipaddress
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

INSTALL_HINT = "install it with: scripts/ensure-debian-packages.sh dovecot-imapd (make test does)"


class DovecotUnavailable(RuntimeError):
    """Dovecot is not installed or did not start; the message says why."""


def dovecot_binary() -> str:
    found = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)
    if not found:
        raise DovecotUnavailable(f"dovecot is not installed; {INSTALL_HINT}")
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run_as() -> tuple[str, str, int, int]:
    """(user, group, uid, gid) Dovecot runs as: the current user, or nobody for root."""
    if os.geteuid() == 0:
        account = pwd.getpwnam("nobody")
    else:
        account = pwd.getpwuid(os.geteuid())
    return account.pw_name, grp.getgrgid(account.pw_gid).gr_name, account.pw_uid, account.pw_gid


def make_certificates(directory: Path) -> tuple[Path, Path, str]:
    """A test CA and a server certificate for 127.0.0.1 and localhost: (cert path, key path, CA PEM)."""
    # Fixed, wide validity: tests may freeze the clock, OpenSSL checks the real one.
    not_before, not_after = dt.datetime(2000, 1, 1, tzinfo=dt.UTC), dt.datetime(2099, 12, 31, tzinfo=dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Coffre test IMAP CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert_path, key_path = directory / "server.pem", directory / "server.key"
    cert_path.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path, ca.public_bytes(serialization.Encoding.PEM).decode("ascii")


_CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:{root}/mail/%u
default_login_user = {user}
default_internal_user = {user}
default_internal_group = {group}
first_valid_uid = {uid}
first_valid_gid = {gid}
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
service anvil {{
  chroot =
  # No one may connect: auth finds no penalty socket and applies no delay after failed logins.
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
"""


class Dovecot:
    def __init__(self, directory: Path | None = None, start_timeout: float = 20.0):
        # Run as nobody (tests as root), Dovecot must reach its directory: pytest's tmp_path sits in
        # a private directory, so by default it gets one of its own in the system's temp directory.
        self._own_directory = directory is None
        self.root = Path(directory or tempfile.mkdtemp(prefix="coffre-dovecot-"))
        self.start_timeout = start_timeout
        self.imap_port = 0
        self.imaps_port = 0
        self.ca_pem = ""
        self.process: subprocess.Popen | None = None
        self.user, self.group, self.uid, self.gid = _run_as()
        self.password = secrets.token_urlsafe(16)  # every user's (each test takes a user of its own)

    @property
    def config_path(self) -> Path:
        return self.root / "dovecot.conf"

    def _write_config(self) -> None:
        for name in ("run", "state", "mail"):
            (self.root / name).mkdir(parents=True, exist_ok=True)
        cert, key, self.ca_pem = make_certificates(self.root)
        self.imap_port, self.imaps_port = _free_port(), _free_port()
        self.config_path.write_text(
            _CONFIG.format(
                root=self.root,
                cert=cert,
                key=key,
                password=self.password,
                user=self.user,
                group=self.group,
                uid=self.uid,
                gid=self.gid,
                imap_port=self.imap_port,
                imaps_port=self.imaps_port,
            )
        )
        self.root.chmod(0o755)
        if os.geteuid() == 0:
            for path in [self.root, *self.root.rglob("*")]:
                os.chown(path, self.uid, self.gid)

    def start(self) -> "Dovecot":
        binary = dovecot_binary()
        self._write_config()
        as_other = os.geteuid() == 0
        self.process = subprocess.Popen(
            [binary, "-F", "-c", str(self.config_path)],
            stdout=subprocess.DEVNULL,
            stderr=open(self.root / "stderr.log", "wb"),
            user=self.uid if as_other else None,
            group=self.gid if as_other else None,
            extra_groups=[] if as_other else None,
        )
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise DovecotUnavailable(
                    f"dovecot stopped at start-up (status {self.process.returncode}): {self.log_tail()}"
                )
            if self._greets(self.imap_port) and self._listens(self.imaps_port):
                return self
            time.sleep(0.05)
        self.stop()
        raise DovecotUnavailable(
            f"dovecot did not answer within {self.start_timeout:.0f} s: {self.log_tail()}"
        )

    @staticmethod
    def _listens(port: int) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            return False

    @staticmethod
    def _greets(port: int) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                return sock.recv(100).startswith(b"* OK")
        except OSError:
            return False

    def log_tail(self, lines: int = 15) -> str:
        texts = []
        for name in ("stderr.log", "dovecot.log"):
            path = self.root / name
            if path.exists():
                texts += path.read_text(errors="replace").splitlines()[-lines:]
        return " | ".join(texts) or "(no log)"

    def log_text(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._own_directory:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> "Dovecot":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def client(self, name: str, password: str):
        """An IMAPClient logged in as ``name`` over plain IMAP (test set-up: append, folders)."""
        from imapclient import IMAPClient

        client = IMAPClient("127.0.0.1", port=self.imap_port, ssl=False, timeout=10)
        client.login(name, password)
        return client

    def append(self, name: str, password: str, folder: str, *messages: bytes) -> None:
        client = self.client(name, password)
        try:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            for message in messages:
                client.append(folder, message)
        finally:
            client.logout()

    def recreate_folder(self, name: str, password: str, folder: str, *messages: bytes) -> None:
        """Delete and create ``folder`` again: it gets a new UIDVALIDITY, and ``messages``."""
        client = self.client(name, password)
        try:
            if client.folder_exists(folder):
                client.delete_folder(folder)
            client.create_folder(folder)
            for message in messages:
                client.append(folder, message)
        finally:
            client.logout()
