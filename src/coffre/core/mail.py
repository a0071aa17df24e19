"""Sending the portal's e-mails: plain text and HTML from templates, in the reader's language.

``send_templated_mail`` queues each mail in the outbox (``coffre.outbox``) in the caller's
transaction and hands it over in this process once that transaction has committed; nothing is
sent for a change that rolled back, and a mail the relay could not take now is retried by the
outbox (docs/mail.md). The outbox is imported when a mail is sent, not with this module: core
stays below the apps, and this function is the one door the apps had before the outbox existed.

Templates: ``<prefix>_subject.txt``, ``<prefix>.txt`` and optionally ``<prefix>.html``.
"""

import uuid

from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils import translation


def render_mail(prefix: str, context: dict, language: str) -> tuple[str, str, str | None]:
    with translation.override(language):
        subject = " ".join(render_to_string(f"{prefix}_subject.txt", context).split())
        text = render_to_string(f"{prefix}.txt", context)
        try:
            html = render_to_string(f"{prefix}.html", context)
        except TemplateDoesNotExist:
            html = None
    return subject, text, html


def send_templated_mail(to: list[str], prefix: str, context: dict, language: str, *, reply_to=None) -> None:
    """Render now, send after commit: one outgoing mail per address of ``to``."""
    from coffre.outbox.services import queue_mail

    headers = {"Reply-To": ", ".join(reply_to)} if reply_to else None
    for address in to:
        queue_mail(
            key=f"portal:{uuid.uuid4().hex}",
            purpose=prefix.rsplit("/", 1)[-1],
            to=address,
            prefix=prefix,
            context=context,
            language=language,
            headers=headers,
            deliver_now=True,
        )
