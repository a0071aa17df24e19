"""One outgoing mail as it leaves Coffre, and what a failed hand-off means.

- The envelope sender is the mail's own bounce address (VERP, ``bounces+<token>@<bounce domain>``)
  when ``COFFRE_BOUNCE_DOMAIN`` is set, so that a bounce names the mail it is about; the From
  header stays the configured sender. Without a bounce domain the envelope sender is the From
  address.
- With a DKIM key configured, the message is signed (rsa-sha256, relaxed/relaxed) over the exact
  bytes the mail backend writes: the signature header is put in front of them, never re-folded.
- ``classify`` turns an exception of the hand-off into a ``DeliveryFailure``: permanent only when
  the relay refused the *recipient* (an SMTP 5xx at RCPT, or at DATA with a mailbox status); a
  refused sender, a failed login, a 4xx, a broken connection or a timeout are temporary (a
  configuration problem must delay mail, never drop it).

This module never puts a credential in a message, a log line or ``DeliveryFailure.summary``: the
summary is built from the reply code and text of the server, or the name of a network error.
"""

import logging
import re
import smtplib
from dataclasses import dataclass
from functools import lru_cache

import dkim
from django.conf import settings
from django.core.mail import EmailMultiAlternatives

logger = logging.getLogger("coffre.outbox")

BOUNCE_LOCAL_PART = "bounces"
SUMMARY_MAX = 500
# Signed headers; From and Subject are listed twice so that a second one cannot be added unseen,
# and an absent header (Reply-To) is signed as absent.
DKIM_HEADERS = (
    "from", "from", "to", "subject", "subject", "date", "message-id", "reply-to",
    "mime-version", "content-type", "content-transfer-encoding",
)
_ENHANCED_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")


@dataclass(frozen=True)
class DeliveryFailure:
    permanent: bool
    # The recipient's address itself was refused: a notification address is then marked failing.
    address_refused: bool
    summary: str


# --- the message --------------------------------------------------------------------------------


def bounce_address(token: str) -> str | None:
    """The VERP envelope sender of the mail with this bounce token, or None without a bounce domain."""
    domain = settings.COFFRE_BOUNCE_DOMAIN
    return f"{BOUNCE_LOCAL_PART}+{token}@{domain}" if domain else None


def bounce_token_of(address: str) -> str | None:
    """The token of a bounce address of this Coffre (``bounces+<token>@<bounce domain>``), else None."""
    domain = settings.COFFRE_BOUNCE_DOMAIN
    local, at, address_domain = address.strip().strip("<>").rpartition("@")
    if not domain or not at or address_domain.lower() != domain:
        return None
    prefix, plus, token = local.partition("+")
    if prefix.lower() != BOUNCE_LOCAL_PART or not plus or not token:
        return None
    return token.lower()


@dataclass(frozen=True)
class DkimKey:
    private_key: bytes
    selector: bytes
    domain: bytes


def dkim_key() -> DkimKey | None:
    return _dkim_key(
        settings.COFFRE_DKIM_PRIVATE_KEY or "",
        settings.COFFRE_DKIM_SELECTOR or "",
        settings.COFFRE_DKIM_DOMAIN or "",
    )


@lru_cache(maxsize=4)
def _dkim_key(private_key: str, selector: str, domain: str) -> DkimKey | None:
    if not private_key:
        return None
    return DkimKey(private_key.encode("ascii") + b"\n", selector.encode("ascii"), domain.encode("ascii"))


def dkim_key_problem(private_key: str) -> str | None:
    """Why ``private_key`` cannot sign (never quoting it), or None."""
    try:
        dkim.crypto.parse_pem_private_key(private_key.encode("ascii", "replace") + b"\n")
    except dkim.crypto.UnparsableKeyError:
        return "not a PEM RSA private key (PKCS#1 or PKCS#8)"
    return None


class SignedMessage:
    """A MIME message with a DKIM-Signature header in front of its bytes (as the backends write it)."""

    def __init__(self, message, signature: bytes):
        self._message = message
        self._signature = signature  # "DKIM-Signature: ...\r\n", folded by dkimpy

    def as_bytes(self, unixfrom=False, linesep="\n") -> bytes:
        signature = self._signature.replace(b"\r\n", linesep.encode("ascii"))
        return signature + self._message.as_bytes(unixfrom, linesep=linesep)

    def as_string(self, unixfrom=False, linesep="\n") -> str:
        return self.as_bytes(unixfrom, linesep).decode("utf-8", "surrogateescape")

    def __getitem__(self, name):
        if name.lower() == "dkim-signature":
            return self._signature.decode("ascii").partition(":")[2].strip()
        return self._message[name]

    def __getattr__(self, name):
        return getattr(self._message, name)


class OutgoingEmail(EmailMultiAlternatives):
    """Django's e-mail, DKIM-signed when a key is configured."""

    def message(self):
        message = super().message()
        key = dkim_key()
        if key is None:
            return message
        # Serialising fixes the MIME boundaries, so the backend writes these very bytes again.
        data = message.as_bytes(linesep="\r\n")
        signature = dkim.sign(
            data,
            key.selector,
            key.domain,
            key.private_key,
            canonicalize=(b"relaxed", b"relaxed"),
            signature_algorithm=b"rsa-sha256",
            include_headers=[name.encode("ascii") for name in DKIM_HEADERS],
        )
        return SignedMessage(message, signature)


def email_of(mail) -> OutgoingEmail:
    """The e-mail of an OutgoingMail: same Message-ID on every attempt, VERP envelope sender."""
    headers = dict(mail.headers)
    reply_to = [address.strip() for address in headers.pop("Reply-To", "").split(",") if address.strip()]
    envelope_sender = bounce_address(mail.bounce_token)
    if envelope_sender:
        headers["From"] = mail.from_address
    message = OutgoingEmail(
        mail.subject,
        mail.text,
        envelope_sender or mail.from_address,
        [mail.to_address],
        headers={**headers, "Message-ID": mail.message_id},
        reply_to=reply_to or None,
    )
    if mail.html:
        message.attach_alternative(mail.html, "text/html")
    return message


def send(mail) -> None:
    """Hand the mail to the configured backend; raises whatever the backend raises."""
    email_of(mail).send(fail_silently=False)


# --- failures -------------------------------------------------------------------------------------


def _text(reply) -> str:
    if isinstance(reply, bytes):
        reply = reply.decode("utf-8", "replace")
    return " ".join(str(reply).split())


def _reply(code: int, text) -> str:
    return f"SMTP {code} {_text(text)}".strip()[:SUMMARY_MAX]


def _mailbox_status(text: str) -> bool:
    """An enhanced status code saying the mailbox itself is wrong (5.1.x address, 5.2.1/5.2.2 mailbox)."""
    match = _ENHANCED_STATUS.search(text)
    if match is None or match.group(1) != "5":
        return False
    subject, detail = match.group(2), match.group(3)
    return subject == "1" or (subject == "2" and detail in {"1", "2"})


def classify(exc: BaseException) -> DeliveryFailure:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()), (0, b""))
        return DeliveryFailure(permanent=code >= 500, address_refused=code >= 500, summary=_reply(code, text))
    if isinstance(exc, smtplib.SMTPSenderRefused):
        reply = _reply(exc.smtp_code, exc.smtp_error)
        return DeliveryFailure(False, False, f"sender refused by the relay: {reply}")
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        reply = _reply(exc.smtp_code, exc.smtp_error)
        return DeliveryFailure(False, False, f"login to the relay failed: {reply}")
    if isinstance(exc, smtplib.SMTPDataError) and exc.smtp_code >= 500:
        text = _text(exc.smtp_error)
        return DeliveryFailure(True, _mailbox_status(text), _reply(exc.smtp_code, text))
    if isinstance(exc, smtplib.SMTPResponseException):
        return DeliveryFailure(False, False, _reply(exc.smtp_code, exc.smtp_error))
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return DeliveryFailure(False, False, "the relay closed the connection")
    if isinstance(exc, OSError):
        reason = exc.strerror or _text(exc) or "network error"
        return DeliveryFailure(False, False, f"{type(exc).__name__}: {reason}"[:SUMMARY_MAX])
    return DeliveryFailure(False, False, f"unexpected {type(exc).__name__}")
