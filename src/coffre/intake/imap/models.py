"""A mailbox Coffre polls over IMAP and delivers to an intake address (``ImapSource``).

The watermark is (``uid_validity``, ``last_uid``): every message of the folder with a greater UID
under the same UIDVALIDITY is new. It only moves forward after the pipeline took a message, so a
crash delivers a message again (the pipeline is idempotent by Message-ID) and never skips one.
"""

from django.db import models
from django.utils import timezone


class Security(models.TextChoices):
    TLS = "tls", "TLS (IMAPS, port 993)"
    STARTTLS = "starttls", "STARTTLS (port 143)"
    PLAIN = "plain", "no encryption (loopback only)"


DEFAULT_PORTS = {Security.TLS: 993, Security.STARTTLS: 143, Security.PLAIN: 143}


class ImapSource(models.Model):
    target = models.CharField(max_length=64, help_text="local part of the intake address it delivers to")
    host = models.CharField(max_length=253)
    port = models.PositiveIntegerField()
    security = models.CharField(max_length=10, choices=Security.choices, default=Security.TLS)
    username = models.CharField(max_length=320)
    password_sealed = models.BinaryField()  # coffre.intake.imap.credentials
    ca_certificate = models.TextField(blank=True, help_text="PEM of a private CA; empty: the system's")
    folder = models.CharField(max_length=255, default="INBOX")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    # The watermark.
    uid_validity = models.BigIntegerField(null=True, blank=True)
    last_uid = models.BigIntegerField(default=0)
    # Runs, failures and the next attempt (the periodic poll's backoff).
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    failures = models.PositiveIntegerField(default=0)  # consecutive
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered = models.PositiveBigIntegerField(default=0)
    # A poll in progress holds the source until then (so that two workers never poll it at once).
    claimed_by = models.CharField(max_length=32, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["host", "port", "username", "folder"], name="imap_source_once"),
        ]

    def __str__(self):
        return f"{self.username}@{self.host}:{self.port}/{self.folder} -> {self.target}"
