"""What the notifications remember: the nightly digest runs, each digest sent (its reference code,
for the "Is this e-mail genuine?" page), the people's instant-alert choices and the alerts sent.

Exactly once: a ``Digest`` row per (enterprise, night) is written in the transaction that queues
its e-mail in the outbox (under the key ``digest:<cbe>:<night>``), so that a run restarted after a
crash skips the enterprises already served and serves the others. A ``DigestRun`` fixes the
events a night covers (``from_sequence`` < sequence <= ``to_sequence``); the next night starts
where the last finished run ended, so an event is covered by exactly one run.

Reference codes are random (80 bits), stored without their dashes, unique.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from coffre.accounts.models import Enterprise


class DigestRun(models.Model):
    """The digest run of one night (a Brussels date): which events it covers and how far it got."""

    night = models.DateField(unique=True)
    from_sequence = models.BigIntegerField()  # exclusive
    to_sequence = models.BigIntegerField()  # inclusive
    # Every event up to here was looked at (the enterprises whose first event of the window
    # came before it have their digest or had nothing to say).
    progress = models.BigIntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # A worker holds the run until then (renewed after each batch); a crashed worker's run is
    # taken again once this has passed.
    locked_until = models.DateTimeField(null=True, blank=True)
    digests = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-night"]

    def __str__(self):
        state = "finished" if self.finished_at else "unfinished"
        return f"digest run {self.night} ({state}, events {self.from_sequence + 1}-{self.to_sequence})"


class Digest(models.Model):
    """The nightly e-mail of one enterprise for one night, to its notification address."""

    # No index of its own: the unique (enterprise, night) constraint starts with it.
    enterprise = models.ForeignKey(Enterprise, on_delete=models.PROTECT, related_name="+", db_index=False)
    night = models.DateField()
    code = models.CharField(max_length=16, unique=True)
    to_address = models.EmailField(max_length=254)
    new_documents = models.PositiveIntegerField(default=0)
    reminders = models.PositiveIntegerField(default=0)
    expiring = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    mail = models.ForeignKey("outbox.OutgoingMail", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["enterprise", "night"], name="digest_once_a_night")]

    def __str__(self):
        return f"digest {self.night} of enterprise {self.enterprise_id}"


class AlertSubscription(models.Model):
    """A person asked for an e-mail as soon as a document arrives in this enterprise's e-Box (seed
    004). Whether the person may still read that e-Box is checked again for every alert."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "enterprise"], name="alert_subscription_once")]
        indexes = [models.Index(fields=["enterprise"], name="alert_subscription_by_ebox")]


class AlertCursor(models.Model):
    """How far the instant alerts went in the event sequence (one row, pk=1)."""

    sequence = models.BigIntegerField()
    updated_at = models.DateTimeField(default=timezone.now)


class InstantAlert(models.Model):
    """An instant alert e-mailed to a person: the arrivals of one batch, in the e-Boxes they read."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    code = models.CharField(max_length=16, unique=True)
    to_address = models.EmailField(max_length=254)
    documents = models.PositiveIntegerField()
    first_sequence = models.BigIntegerField()  # of the first arrival told (the mail's key)
    created_at = models.DateTimeField(default=timezone.now)
    mail = models.ForeignKey("outbox.OutgoingMail", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")

    def __str__(self):
        return f"instant alert to user {self.user_id} ({self.documents})"
