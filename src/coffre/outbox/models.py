"""The outgoing e-mails of Coffre, kept until delivered (a transactional outbox).

A mail is written in the transaction of the change that decided to send it, under an idempotency
``key``: the same key is queued once, whatever retries or restarts happen. The delivery task hands
it to Django's mail backend after commit and records the outcome; a crash between the two can
only repeat a hand-off, never lose or double-queue a mail (its Message-ID stays the same).

A worker hands a mail over only while it holds its claim (``claimed_by`` until ``claimed_until``,
taken by one conditional UPDATE), so two workers never send the same mail at once; a worker that
dies loses its claim when the lease ends. ``bounce_token`` names the mail in its envelope sender
(VERP), so that a bounce finds the mail it is about (docs/mail.md).
"""

import secrets

from django.db import models
from django.db.models import Q
from django.utils import timezone


class MailStatus(models.TextChoices):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"  # permanently refused (5xx, bounce): not retried


def new_bounce_token() -> str:
    """128 random bits in lower-case hex: safe in an address's local part, which MTAs may fold."""
    return secrets.token_hex(16)


class OutgoingMail(models.Model):
    key = models.CharField(max_length=200, unique=True)
    purpose = models.CharField(max_length=40)  # e.g. "digest", "instant_alert", "linking_notice"
    to_address = models.EmailField(max_length=254)
    from_address = models.CharField(max_length=300)
    subject = models.CharField(max_length=500)
    text = models.TextField()
    html = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    # Set for mail to an e-Box's notification address: a permanent failure marks that address failing.
    ebox = models.ForeignKey("mailbox.Ebox", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    message_id = models.CharField(max_length=300)  # the Message-ID header, the same on every attempt
    status = models.CharField(max_length=10, choices=MailStatus.choices, default=MailStatus.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    # The worker handing the mail over now, and until when its claim holds.
    claimed_by = models.CharField(max_length=32, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    # When a delivery task was last enqueued for the mail, cleared when an attempt ends: the sweep
    # re-enqueues a due mail only when no task is on its way (a lost task is taken again later).
    enqueued_at = models.DateTimeField(null=True, blank=True)
    bounce_token = models.CharField(max_length=32, unique=True, default=new_bounce_token)

    class Meta:
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="queued"), name="outgoing_mail_due"),
            models.Index(fields=["-created_at", "-id"], name="outgoing_mail_recent"),
        ]

    def __str__(self):
        return f"{self.purpose} to {self.to_address} ({self.status})"
