"""Sending the portal's e-mails: plain text and HTML from templates, in the reader's language,
handed to Django's mail backend once the transaction that decided to send them has committed.

Templates: ``<prefix>_subject.txt``, ``<prefix>.txt`` and optionally ``<prefix>.html``.
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
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
    """Render now, send after commit (nothing is sent for a change that rolled back)."""
    subject, text, html = render_mail(prefix, context, language)

    def send():
        message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, to, reply_to=reply_to)
        if html:
            message.attach_alternative(html, "text/html")
        message.send()

    transaction.on_commit(send)
