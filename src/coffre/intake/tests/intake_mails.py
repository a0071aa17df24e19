"""Mails as mail clients send them to the spaces' addresses, and the receiving of them, for the
intake's tests (and the access tests' world)."""

import itertools
from email.message import EmailMessage
from email.utils import make_msgid

from coffre.intake import pipeline, selectors
from coffre.intake import services as intake_services
from coffre.mailbox.models import Ebox

ACTOR_NAME = "test"
_numbers = itertools.count(1)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def mail(
    from_header: str | None = "Alice Lebrun <alice@fidu-lebrun.be>",
    *,
    to: str = "space@intake.localhost",
    subject: str = "Invoice January",
    attachments: list[tuple[str, str, bytes]] | None = None,
    body: str = "Please find the invoice attached.",
    headers: dict | None = None,
    message_id: str | None = None,
) -> bytes:
    """A mail with ``attachments`` (file name, media type, content); a fresh Message-ID unless given
    (``message_id=""``: none at all)."""
    message = EmailMessage()
    if from_header is not None:
        message["From"] = from_header
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = "Thu, 15 Jan 2026 10:00:00 +0100"
    if message_id is None:
        message_id = make_msgid(idstring=str(next(_numbers)), domain="client.example")
    if message_id:
        message["Message-ID"] = message_id
    message.set_content(body)
    for file_name, media_type, content in attachments or []:
        main, _, sub = media_type.partition("/")
        message.add_attachment(content, maintype=main, subtype=sub, filename=file_name)
    for name, value in (headers or {}).items():  # after the parts: the top level's headers
        message[name] = value
    return message.as_bytes().replace(b"\n", b"\r\n").replace(b"\r\r\n", b"\r\n")


def invoice(from_header: str | None = "Alice Lebrun <alice@fidu-lebrun.be>", **kwargs) -> bytes:
    """A mail bringing one PDF invoice."""
    kwargs.setdefault("attachments", [("invoice-2026-001.pdf", "application/pdf", PDF)])
    return mail(from_header, **kwargs)


def space_address(box: Ebox, folder: str = "documents", actor=None) -> str:
    from coffre.audit.services import Actor

    address = intake_services.address_for(box, folder, actor or Actor.cli(ACTOR_NAME))
    return selectors.full_address(address)


def receive(
    raw: bytes,
    *recipients: str,
    mail_from: str = "sender@client.example",
    client_ip: str = "192.0.2.10",
    helo: str = "mx.client.example",
    via: str = "smtp",
) -> pipeline.Outcome:
    """``pipeline.receive`` as a mail server would call it."""
    return pipeline.receive(raw, pipeline.Envelope(mail_from, tuple(recipients), client_ip, helo, via))
