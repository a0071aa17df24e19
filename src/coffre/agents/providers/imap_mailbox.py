"""The IMAP mailbox agent: the attachments of the mails of one folder of a mailbox (docs/agents-docconsumer.md).

Each mail of the folder is one document: its attachments, as the e-mail intake reads them
(``coffre.intake.mime.extract``: accepted types only, forwarded mails opened, signature logos left
out; a mail without any attachment gives its body as a text document). Its id is
``UIDVALIDITY:UID``, unique for the folder's life; it is also the cursor.

What it took is marked in the mailbox with the keyword ``$CoffreTaken`` rather than ``\\Seen``:
``\\Seen`` is the person's own "read" state, which their mail program sets and clears (a mail read
on the phone before the sync must still be taken, and taking one must not hide it as read); a
keyword of its own says exactly "Coffre has it", survives a renumbered folder (new UIDVALIDITY) or
a connection added again, and the person can see and clear it. A mail is marked only once the sync
engine has filed it: ``list_documents`` marks the last mail it gave when the engine asks for the
next one (and, at the start of a sync, the cursor's mail, in case the previous sync stopped in
between), so a crash never leaves a mail marked and not stored. A mail with nothing to take (every
file refused) is marked too, so it is not read again; a mail too large for the intake is left
unmarked and named in the log. Where the server keeps no keywords (its PERMANENTFLAGS lack
``\\*``) nothing is marked, and the cursor and the engine's ids keep every mail from being taken
twice.

Connects with ``coffre.intake.imap.poller.connect`` (TLS 1.2 at least, certificates verified,
STARTTLS only when offered). Errors: refused login or untrusted certificate -> ``LoginFailed``;
refused connection, timeout, dropped connection -> ``VendorDown``; a folder that does not exist ->
``UserActionNeeded(CONTACT_PROVIDER)``: only the person can create it again in their mailbox or
name another, so retrying would not help, and support could do nothing about it. Never logs the
password nor puts it in an error message; never logs a mail's content.
"""

import datetime as dt
import imaplib
import logging
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import parseaddr
from zoneinfo import ZoneInfo

from django.utils.translation import gettext_lazy as _
from imapclient.exceptions import IMAPClientError, LoginError

from coffre.agents.providers.pem import PemError, pem_text
from coffre.agents.sdk import (
    Agent,
    AgentError,
    Category,
    CredentialField,
    FetchedDocument,
    FieldKind,
    LoginFailed,
    RemoteDocument,
    RemoteFile,
    Session,
    UnknownAgentError,
    UserAction,
    UserActionNeeded,
    VendorDown,
)
from coffre.intake import mime
from coffre.intake.imap.models import DEFAULT_PORTS, Security
from coffre.intake.imap.poller import PollError, connect

logger = logging.getLogger("coffre.agents.imap_mailbox")
BRUSSELS = ZoneInfo("Europe/Brussels")
KEYWORD = "$CoffreTaken"
SECURITIES = (Security.TLS, Security.STARTTLS)
FETCH_CHUNK = 200  # UIDs per FETCH of sizes and dates


@dataclass(frozen=True)
class Account:
    """What ``poller.connect`` needs (``poller.ImapAccount``)."""

    host: str
    port: int
    security: str
    username: str
    ca_certificate: str


def _account(values: dict) -> Account:
    host = str(values.get("host", "")).strip()
    username = str(values.get("username", "")).strip()
    if not host or not username:
        raise LoginFailed("the host and the user name are needed")
    security = str(values.get("security", "") or Security.TLS).strip().lower()
    if security not in SECURITIES:
        raise LoginFailed("the security must be tls or starttls")
    port_text = str(values.get("port", "") or DEFAULT_PORTS[Security(security)]).strip()
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise LoginFailed("the port must be a number from 1 to 65535")
    ca_text = str(values.get("ca_certificate", "")).strip()
    try:
        ca_certificate = pem_text(ca_text) if ca_text else ""
    except PemError as exc:
        raise LoginFailed(f"the CA certificate cannot be used: {exc}") from None
    return Account(host, int(port_text), security, username, ca_certificate)


def _server_text(exc: BaseException, password: str) -> str:
    text = str(exc.args[0] if exc.args else exc)
    if text.startswith(("b'", 'b"')):
        text = text[2:-1]
    text = " ".join(text.split())[:200]
    return text.replace(password, "***") if password else text


def agent_error(exc: BaseException, account: Account, password: str) -> AgentError:
    """The agent error of what the IMAP library raised (one sentence, never the password)."""
    where = f"{account.host}:{account.port}"
    if isinstance(exc, AgentError):
        return exc
    if isinstance(exc, PollError):
        return LoginFailed(_server_text(exc, password))
    if isinstance(exc, LoginError):
        return LoginFailed(f"{where} refused the login of {account.username}: {_server_text(exc, password)}")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return LoginFailed(
            f"TLS with {where} failed: the server's certificate is not trusted ({exc.verify_message}); "
            "give the certificate of its authority, or check the host name"
        )
    if isinstance(exc, ssl.SSLError):
        return UnknownAgentError(f"TLS with {where} failed: {exc.reason or type(exc).__name__}")
    if isinstance(exc, socket.timeout | TimeoutError):
        return VendorDown(f"{where} did not answer in time")
    if isinstance(exc, socket.gaierror):
        return VendorDown(f"cannot resolve {account.host}: {exc.strerror or type(exc).__name__}")
    if isinstance(exc, imaplib.IMAP4.abort | OSError):
        return VendorDown(f"the connection to {where} failed: {_server_text(exc, password) or type(exc).__name__}")
    if isinstance(exc, IMAPClientError | imaplib.IMAP4.error):
        return UnknownAgentError(f"IMAP error from {where}: {_server_text(exc, password)}")
    return UnknownAgentError(f"unexpected error with {where}: {type(exc).__name__}")


@contextmanager
def _imap_errors(session: Session):
    try:
        yield
    except (AgentError, PollError, IMAPClientError, imaplib.IMAP4.error, OSError) as exc:
        raise agent_error(exc, session.state["account"], session.state["password"]) from None


class ImapMailboxAgent(Agent):
    id = "imap-mailbox"
    name = "Mailbox (IMAP)"
    provider = "IMAP"
    logo = "coffre/agents/mailbox.svg"
    category = Category.MAILBOX
    frequency = dt.timedelta(hours=1)
    max_concurrent = 8
    description = _("Takes the attachments of the mails in one folder of a mailbox, and marks what it took.")
    credential_fields = (
        CredentialField("host", _("IMAP server"), help_text=_("For example imap.example.com")),
        CredentialField(
            "security",
            _("Security"),
            required=False,
            help_text=_("tls (port 993, the default) or starttls (port 143)."),
        ),
        CredentialField("port", _("Port"), FieldKind.NUMBER, required=False, help_text=_("Empty: 993 or 143.")),
        CredentialField("username", _("User name")),
        CredentialField("password", _("Password"), FieldKind.PASSWORD, secret=True),
        CredentialField("folder", _("Folder"), required=False, help_text=_("Empty: INBOX.")),
        CredentialField(
            "ca_certificate",
            _("Certificate authority"),
            FieldKind.MULTILINE,
            required=False,
            help_text=_("Only for a server with a private certificate authority: its PEM certificate."),
        ),
    )

    # --- session -------------------------------------------------------------------------------------

    @contextmanager
    def open_session(self, credentials: dict) -> Iterator[Session]:
        values = dict(credentials)
        account = _account(values)
        password = str(values.get("password", ""))
        if not password:
            raise LoginFailed("the password is missing")
        folder = str(values.get("folder", "")).strip() or "INBOX"
        try:
            client = connect(account, password)
        except Exception as exc:  # noqa: BLE001 - every failure becomes an agent error
            raise agent_error(exc, account, password) from None
        session = Session(credentials=values, state={"account": account, "password": password, "client": client})
        try:
            with _imap_errors(session):
                client.normalise_times = False  # INTERNALDATE with its offset
                session.state.update(self._select(client, folder))
            yield session
        finally:
            try:
                client.logout()
            except Exception:  # noqa: BLE001 - the sync's outcome is known; a failed goodbye is not news
                client.shutdown()

    @staticmethod
    def _select(client, folder: str) -> dict:
        try:
            selected = client.select_folder(folder)
        except IMAPClientError:
            if not client.folder_exists(folder):
                raise UserActionNeeded(
                    UserAction.CONTACT_PROVIDER,
                    f"the folder {folder!r} does not exist in the mailbox: create it again there, "
                    "or give the name of another folder",
                ) from None
            raise
        flags = selected.get(b"PERMANENTFLAGS", ())
        return {
            "folder": folder,
            "uid_validity": int(selected[b"UIDVALIDITY"]),
            "keywords": b"\\*" in flags,
            "mails": {},
        }

    # --- listing -------------------------------------------------------------------------------------

    def list_documents(self, session: Session, cursor: str) -> Iterator[RemoteDocument]:
        client = session.state["client"]
        uid_validity = session.state["uid_validity"]
        validity_text, _colon, uid_text = (cursor or "").partition(":")
        last_uid = int(uid_text) if validity_text == str(uid_validity) and uid_text.isdigit() else 0
        with _imap_errors(session):
            if last_uid:
                self._mark(session, last_uid)  # filed by the previous sync, which may have stopped before
            criteria = ["NOT", "KEYWORD", KEYWORD] if session.state["keywords"] else ["ALL"]
            if last_uid:
                criteria = ["UID", f"{last_uid + 1}:*", *criteria]
            # "n:*" also matches the last mail when its UID is below n: keep only the new ones.
            uids = sorted(uid for uid in client.search(criteria) if uid > last_uid)
        limits = mime.Limits.from_settings()
        for start in range(0, len(uids), FETCH_CHUNK):
            chunk = uids[start : start + FETCH_CHUNK]
            with _imap_errors(session):
                facts = client.fetch(chunk, ["RFC822.SIZE", "INTERNALDATE"])
            for uid in chunk:
                remote = self._listed(session, uid, facts.get(uid, {}), limits)
                if remote is None:
                    continue
                yield remote
                # The engine asks for the next one: this mail is filed (or was known).
                session.state["mails"].pop(remote.remote_id, None)
                with _imap_errors(session):
                    self._mark(session, uid)

    def _listed(self, session: Session, uid: int, facts: dict, limits: mime.Limits) -> RemoteDocument | None:
        """The mail as a listed document, its extraction kept for ``download``; None when it has
        nothing to take (marked) or is too large (left as it is)."""
        size = facts.get(b"RFC822.SIZE", 0)
        if size > limits.max_message_size:
            logger.warning(
                "imap mailbox %s: mail UID %s (%d bytes) is larger than %d bytes: not taken",
                session.state["folder"], uid, size, limits.max_message_size,
            )
            return None
        with _imap_errors(session):
            raw = session.state["client"].fetch([uid], ["BODY.PEEK[]"]).get(uid, {}).get(b"BODY[]")
        if raw is None:
            return None  # expunged meanwhile
        extraction = mime.extract(bytes(raw), limits)
        if not extraction.documents:
            logger.info(
                "imap mailbox %s: mail UID %s has nothing to take (%s)",
                session.state["folder"], uid, ", ".join(problem.code for problem in extraction.refused) or "empty",
            )
            with _imap_errors(session):
                self._mark(session, uid)
            return None
        received = facts.get(b"INTERNALDATE")
        received = received if isinstance(received, dt.datetime) and received.tzinfo else None
        remote_id = f"{session.state['uid_validity']}:{uid}"
        session.state["mails"][remote_id] = (extraction, received)
        return RemoteDocument(
            remote_id=remote_id,
            cursor=remote_id,
            title=extraction.subject,
            issued_on=received.astimezone(BRUSSELS).date() if received else None,
            details={"folder": session.state["folder"], "uid": uid, "files": len(extraction.documents)},
        )

    @staticmethod
    def _mark(session: Session, uid: int) -> None:
        if session.state["keywords"]:
            session.state["client"].add_flags([uid], [KEYWORD], silent=True)

    # --- download ------------------------------------------------------------------------------------

    def download(self, session: Session, document: RemoteDocument) -> FetchedDocument:
        kept = session.state["mails"].get(document.remote_id)
        if kept is None:  # not the mail just listed: read it again
            uid = int(document.remote_id.partition(":")[2])
            with _imap_errors(session):
                raw = session.state["client"].fetch([uid], ["BODY.PEEK[]"]).get(uid, {}).get(b"BODY[]")
            if raw is None:
                raise UnknownAgentError(f"mail UID {uid} is no longer in the folder")
            kept = (mime.extract(bytes(raw), mime.Limits.from_settings()), None)
        extraction, received = kept
        if not extraction.documents:
            raise UnknownAgentError(f"mail {document.remote_id} has nothing to take")
        display_name, address = parseaddr(extraction.from_header)
        return FetchedDocument(
            files=tuple(RemoteFile(item.filename, item.media_type, item.content) for item in extraction.documents),
            subject=extraction.subject,
            sender_name=display_name or address,
            sender_id=address,
            issued_at=received,
            details={
                "folder": session.state["folder"],
                "message_id": extraction.message_id,
                "not_stored": [problem.as_dict() for problem in extraction.refused],
            },
        )
