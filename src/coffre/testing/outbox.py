"""The e-mails a server in a subprocess sent: its file backend's outbox (``$COFFRE_VAR_DIR/outbox``).

Tests that drive the production server (``gunicorn_server``) cannot use Django's in-memory
``mail.outbox``: the server writes each mail to a file of the outbox directory (Django's file
backend: messages one after the other, each followed by a line of 79 dashes). ``mails()`` reads
them back, decoded; ``link_in(mail, "/accounts/verify/")`` takes a link out of one, as a person
would click it.
"""

import email
import email.policy
import re
from dataclasses import dataclass
from email.utils import getaddresses
from pathlib import Path

from django.conf import settings

SEPARATOR = re.compile(rb"^-{79}$", re.MULTILINE)
URL = re.compile(r"https?://[^\s<>\"']+")


@dataclass(frozen=True)
class Mail:
    to: tuple[str, ...]
    subject: str
    body: str


def outbox_dir() -> Path:
    return Path(settings.VAR_DIR) / "outbox"


def clear() -> None:
    for path in outbox_dir().glob("*"):
        path.unlink()


def mails(to: str | None = None) -> list[Mail]:
    """Every mail of the outbox, oldest file first (only those to ``to`` when given)."""
    found = []
    paths = sorted(outbox_dir().glob("*"), key=lambda path: (path.stat().st_mtime_ns, path.name))
    for path in paths:
        for chunk in SEPARATOR.split(path.read_bytes()):
            if not chunk.strip():
                continue
            message = email.message_from_bytes(chunk.lstrip(b"\n"), policy=email.policy.default)
            recipients = tuple(
                address.lower() for _name, address in getaddresses([str(message.get("To", ""))]) if address
            )
            part = message.get_body(preferencelist=("plain",))
            body = part.get_content() if part is not None else ""
            found.append(Mail(to=recipients, subject=str(message.get("Subject", "")), body=body))
    if to is not None:
        found = [mail for mail in found if to.lower() in mail.to]
    return found


def link_in(mail: Mail, marker: str) -> str:
    """The first link of the mail whose URL contains ``marker``."""
    for url in URL.findall(mail.body):
        if marker in url:
            return url.rstrip(".,;)")
    raise AssertionError(f"no link with {marker!r} in the mail {mail.subject!r}:\n{mail.body}")
