"""Queueing and delivering outgoing e-mails (see models.py for the guarantees)."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import make_msgid
from django.db import transaction
from django.utils import timezone

from coffre.core.mail import render_mail
from coffre.outbox.models import MailStatus, OutgoingMail


def queue_mail(
    *,
    key: str,
    purpose: str,
    to: str,
    prefix: str,
    context: dict,
    language: str,
    headers: dict | None = None,
    ebox=None,
) -> tuple[OutgoingMail, bool]:
    """Write the mail ``key`` (rendered now, in ``language``) in the current transaction, once:
    returns (mail, True) when queued by this call, (existing mail, False) when the key was queued
    before. Delivery starts after commit. ``ebox``: the e-Box whose notification address ``to`` is."""
    existing = OutgoingMail.objects.filter(key=key).first()
    if existing is not None:
        return existing, False
    subject, text, html = render_mail(prefix, context, language)
    mail = OutgoingMail.objects.create(
        key=key,
        purpose=purpose,
        to_address=to,
        from_address=settings.DEFAULT_FROM_EMAIL,
        subject=subject,
        text=text,
        html=html or "",
        headers=headers or {},
        ebox=ebox,
        message_id=make_msgid(domain=settings.COFFRE_MAIL_DOMAIN),
    )
    transaction.on_commit(lambda: _start_delivery(mail.pk))
    return mail, True


def _start_delivery(mail_pk: int) -> None:
    from coffre.outbox.tasks import deliver_mail

    deliver_mail.enqueue(mail_pk)


def email_of(mail: OutgoingMail) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        mail.subject,
        mail.text,
        mail.from_address,
        [mail.to_address],
        headers={**mail.headers, "Message-ID": mail.message_id},
    )
    if mail.html:
        message.attach_alternative(mail.html, "text/html")
    return message


def deliver(mail_pk: int) -> str:
    """Hand one queued mail to the mail backend and record the outcome; returns its status."""
    mail = OutgoingMail.objects.filter(pk=mail_pk).first()
    if mail is None or mail.status != MailStatus.QUEUED:
        return mail.status if mail else "missing"
    email_of(mail).send()
    OutgoingMail.objects.filter(pk=mail.pk, status=MailStatus.QUEUED).update(
        status=MailStatus.SENT, sent_at=timezone.now(), attempts=mail.attempts + 1
    )
    return MailStatus.SENT
