"""Poll one IMAP source: fetch its new messages by UID, in order, and hand each to the intake.

``poll(source_id, deliver=None)``:
1. claims the source (two workers never poll one source at once; a killed worker's claim lapses);
2. connects (IMAPS, or STARTTLS which must be offered: never a password in clear except to
   loopback), logs in, and opens the folder read-only (nothing in the mailbox is changed);
3. when the folder's UIDVALIDITY is not the watermark's, starts again from its first message;
4. for each message with a UID above the watermark (at most ``COFFRE_IMAP_BATCH`` per poll):
   fetches it whole and calls ``deliver(raw, envelope)``, then moves the watermark past it. A
   ``deliver`` that raises stops the poll *before* the watermark moves: that message comes again
   next time (the pipeline is idempotent by Message-ID); none is ever skipped, except one larger
   than ``COFFRE_INTAKE_MAX_MESSAGE_SIZE``, which no intake could take (recorded in the audit);
5. records the outcome: an error as one clear sentence (never the password), retried with
   backoff by the periodic poll (``tasks.poll_due_sources``).

``deliver`` defaults to ``settings.COFFRE_IMAP_DELIVER``, resolved when the poll runs:
``deliver_to_pipeline``, which hands the message to ``coffre.intake.pipeline.receive``.
"""

import imaplib
import ipaddress
import logging
import re
import socket
import ssl
from dataclasses import asdict, dataclass
from email.parser import BytesParser
from email.policy import compat32
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError
from imapclient.imapclient import SocketTimeout

from coffre.audit.services import Actor
from coffre.core.net import is_loopback
from coffre.intake.imap import credentials, services
from coffre.intake.imap.models import ImapSource, Security

logger = logging.getLogger("coffre.intake.imap")
POLL_ACTOR = Actor.system("intake.imap.poll")
_RECEIVED_FROM = re.compile(r"\bfrom\s+(\S+).*?\[(?:IPv6:)?([0-9A-Fa-f:.]+)\]", re.S)
_ANGLE = re.compile(r"<([^<>]*)>")


@dataclass(frozen=True)
class PolledEnvelope:
    """The envelope of a polled message, as ``coffre.intake.pipeline.Envelope`` has it."""

    mail_from: str  # the Return-Path the mailbox's server recorded ("" for a bounce or when absent)
    recipients: tuple[str, ...]  # the intake address of the source's target
    client_ip: str  # from the first Received header with an address; "0.0.0.0" when none
    helo: str
    received_via: str = "imap"


@dataclass(frozen=True)
class PollResult:
    source_id: int
    status: str  # "ok", "error", "busy" (claimed by another poll, or not due), "missing"
    delivered: int = 0
    skipped: int = 0
    more: bool = False  # messages are left for the next poll (the batch was full)
    uid_validity_changed: bool = False
    error: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


class PollError(Exception):
    """A poll cannot go on; the message is for the operator and holds no secret."""


def intake_address(target: str) -> str:
    domain = settings.COFFRE_INTAKE_DOMAIN
    return f"{target}@{domain}"


def envelope_of(raw: bytes, target: str) -> PolledEnvelope:
    """What the mailbox's server knew of the SMTP envelope, from the headers it added."""
    end = raw.find(b"\r\n\r\n")
    end = raw.find(b"\n\n") if end < 0 else end
    headers = BytesParser(policy=compat32).parsebytes(raw[: end if end >= 0 else 64 * 1024], headersonly=True)
    return_path = str(headers.get("Return-Path", "") or "")
    match = _ANGLE.search(return_path)
    mail_from = (match.group(1) if match else return_path).strip()
    client_ip, helo = "0.0.0.0", ""
    for received in headers.get_all("Received", []) or []:
        found = _RECEIVED_FROM.search(str(received))
        if found and _is_ip(found.group(2)):
            helo, client_ip = found.group(1), found.group(2)
            break
    return PolledEnvelope(mail_from[:320], (intake_address(target),), client_ip, helo[:255])


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def deliver_to_pipeline(raw: bytes, envelope: PolledEnvelope):
    """The default ``deliver``: ``coffre.intake.pipeline.receive``, imported when a message comes."""
    from coffre.intake import pipeline

    return pipeline.receive(raw, pipeline.Envelope(**asdict(envelope)))


class ImapAccount(Protocol):
    """Where and as whom to log in: an ``ImapSource``, or any object with these attributes (the
    IMAP mailbox agent's, ``coffre.agents.providers.imap_mailbox``)."""

    host: str
    port: int
    security: str  # a Security value
    username: str
    ca_certificate: str  # PEM of a private CA; empty: the system's


def _tls_context(source: ImapAccount) -> ssl.SSLContext:
    context = ssl.create_default_context(cadata=source.ca_certificate or None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def connect(source: ImapAccount, password: str) -> IMAPClient:
    """An IMAPClient logged in to ``source`` (TLS at least 1.2, verified; STARTTLS only when
    offered; no encryption only to this machine); raises the library's errors (see ``_explain``)
    and ``PollError``."""
    timeout = SocketTimeout(connect=settings.COFFRE_IMAP_TIMEOUT, read=settings.COFFRE_IMAP_TIMEOUT)
    if source.security == Security.TLS:
        client = IMAPClient(
            source.host, port=source.port, ssl=True, ssl_context=_tls_context(source), timeout=timeout
        )
    else:
        if source.security == Security.PLAIN and not is_loopback(source.host):
            raise PollError("an unencrypted connection is only allowed to this machine")
        client = IMAPClient(source.host, port=source.port, ssl=False, timeout=timeout)
        if source.security == Security.STARTTLS:
            if not client.has_capability("STARTTLS"):
                client.shutdown()
                raise PollError(
                    f"{source.host}:{source.port} does not offer STARTTLS: the password is "
                    "never sent unencrypted"
                )
            client.starttls(_tls_context(source))
    try:
        client.login(source.username, password)
    except BaseException:
        client.shutdown()
        raise
    return client


def _server_text(exc: Exception) -> str:
    text = str(exc.args[0] if exc.args else exc)
    if text.startswith(("b'", 'b"')):
        text = text[2:-1]
    return " ".join(text.split())[:200]


def _explain(exc: BaseException, source: ImapSource) -> str:
    where = f"{source.host}:{source.port}"
    if isinstance(exc, PollError | credentials.CredentialError):
        return str(exc)
    if isinstance(exc, LoginError):
        return f"{where} refused the login of {source.username}: {_server_text(exc)}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS with {where} failed: the server's certificate is not trusted ({exc.verify_message})"
    if isinstance(exc, ssl.SSLError):
        return f"TLS with {where} failed: {exc.reason or exc.__class__.__name__}"
    if isinstance(exc, socket.timeout | TimeoutError):
        return f"{where} did not answer within {settings.COFFRE_IMAP_TIMEOUT:g} s"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve {source.host}: {exc.strerror or exc}"
    if isinstance(exc, OSError):
        return f"cannot connect to {where}: {exc.strerror or exc.__class__.__name__}"
    if isinstance(exc, IMAPClientError | imaplib.IMAP4.error):
        return f"IMAP error from {where}: {_server_text(exc)}"
    return f"unexpected error with {where}: {exc.__class__.__name__}"


def _scrub(text: str, password: str) -> str:
    return text.replace(password, "***") if password else text


def poll(source_id: int, deliver=None, *, due_only: bool = False, batch: int | None = None) -> PollResult:
    """Poll one source now (see the module's doc); ``due_only`` for the periodic poll."""
    token = services.claim(source_id, due_only=due_only)
    if token is None:
        exists = ImapSource.objects.filter(pk=source_id).exists()
        return PollResult(source_id, "busy" if exists else "missing")
    source = ImapSource.objects.get(pk=source_id)
    batch = batch or settings.COFFRE_IMAP_BATCH
    password = ""
    counts = {"delivered": 0, "skipped": 0, "more": False, "reset": False}
    try:
        deliver = deliver or _configured_deliver()
        password = credentials.unseal(source.password_sealed)
        client = connect(source, password)
        try:
            _fetch_new(client, source, token, deliver, batch, counts)
        finally:
            try:
                client.logout()
            except Exception:  # noqa: BLE001 - the poll's outcome is known; a failed goodbye is not news
                client.shutdown()
    except BaseException as exc:  # noqa: BLE001 - every failure is recorded; the claim must be released
        error = _scrub(_explain(exc, source) if not isinstance(exc, _DeliveryFailed) else str(exc), password)
        delay = services.record_failure(source_id, token, error)
        logger.warning(
            "imap: source %s (%s): %s; next try in %ds", source_id, source.host, error, delay.total_seconds()
        )
        if not isinstance(exc, Exception):
            raise  # KeyboardInterrupt, SystemExit: recorded, then let go
        return PollResult(
            source_id, "error", counts["delivered"], counts["skipped"], False, counts["reset"], error
        )
    services.record_success(source_id, token, more=counts["more"])
    return PollResult(
        source_id, "ok", counts["delivered"], counts["skipped"], counts["more"], counts["reset"]
    )


def _configured_deliver():
    try:
        return import_string(settings.COFFRE_IMAP_DELIVER)
    except ImportError as exc:
        raise PollError(f"the intake {settings.COFFRE_IMAP_DELIVER} cannot be loaded: {exc}") from None


class _DeliveryFailed(Exception):
    """The intake raised on a message: the poll stops there, the watermark stays before it."""


def _fetch_new(client: IMAPClient, source: ImapSource, token: str, deliver, batch: int, counts: dict) -> None:
    try:
        folder = client.select_folder(source.folder, readonly=True)
    except IMAPClientError as exc:
        raise PollError(f"the folder {source.folder!r} cannot be opened: {_server_text(exc)}") from None
    uid_validity = int(folder[b"UIDVALIDITY"])
    last_uid = source.last_uid
    if source.uid_validity != uid_validity:
        services.reset_watermark(source.pk, token, uid_validity, POLL_ACTOR)
        counts["reset"] = source.uid_validity is not None
        last_uid = 0
    # "n:*" also returns the last message when its UID is below n: keep only the new ones.
    uids = sorted(uid for uid in client.search(["UID", f"{last_uid + 1}:*"]) if uid > last_uid)
    counts["more"] = len(uids) > batch
    uids = uids[:batch]
    if not uids:
        return
    sizes = {uid: data.get(b"RFC822.SIZE", 0) for uid, data in client.fetch(uids, ["RFC822.SIZE"]).items()}
    for uid in uids:
        if sizes.get(uid, 0) > settings.COFFRE_INTAKE_MAX_MESSAGE_SIZE:
            services.record_skipped(source, uid, sizes[uid], POLL_ACTOR)
            services.advance(source.pk, token, uid, delivered=False)
            counts["skipped"] += 1
            continue
        fetched = client.fetch([uid], ["BODY.PEEK[]"]).get(uid, {})
        raw = fetched.get(b"BODY[]")
        if raw is None:
            continue  # expunged meanwhile: nothing left to deliver
        try:
            deliver(bytes(raw), envelope_of(bytes(raw), source.target))
        except Exception as exc:
            logger.exception("imap: source %s: the intake failed on message UID %s", source.pk, uid)
            raise _DeliveryFailed(
                f"the intake failed on message UID {uid}, which will be delivered again: "
                f"{exc.__class__.__name__}: {' '.join(str(exc).split())[:200]}"
            ) from exc
        services.advance(source.pk, token, uid, delivered=True)
        counts["delivered"] += 1


def poll_due(limit: int = 100) -> list[PollResult]:
    """The periodic poll: every active source whose next attempt has come, one after the other."""
    from coffre.intake.imap.selectors import due_source_ids

    return [poll(source_id, due_only=True) for source_id in due_source_ids(limit)]
