"""The outgoing e-mails of Coffre, kept until delivered (a transactional outbox).

A mail is written in the transaction of the change that decided to send it, under an idempotency
``key``: the same key is queued once, whatever retries or restarts happen. The delivery task hands
it to Django's mail backend after commit and records the outcome; a crash between the two can
only repeat a hand-off, never lose or double-queue a mail (its Message-ID stays the same).
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone


class MailStatus(models.TextChoices):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"  # permanently refused (5xx, bounce): not retried


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

    class Meta:
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="queued"), name="outgoing_mail_due"),
            models.Index(fields=["-created_at", "-id"], name="outgoing_mail_recent"),
        ]

    def __str__(self):
        return f"{self.purpose} to {self.to_address} ({self.status})"
