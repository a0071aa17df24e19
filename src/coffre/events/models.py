"""The e-Box events (NOTES.md "Notifications", ``ebox-enterprise-event-api-1.1.1.yaml``).

One row per event, numbered by ``sequence`` (the contract's ``eventSequenceNbr``): readers page with
``lastSequenceNbr``, so a number is never reused and numbers appear in commit order
(``services.emit`` serialises the transactions that write events, see there).

Events of the messages of this registry have ``provider_id`` = settings.COFFRE_EVENT_PROVIDER_ID;
those of documents an agent brought into an enterprise's box have ``in_feed`` false: they tell the
notifications, never a reader of the e-Box event API;
events submitted by other document providers (POST) carry that provider's id and their
``eventCorrelationId``, unique per provider (idempotent submission).
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from coffre.accounts.models import Enterprise


class EventType(models.TextChoices):
    NEW_DOCUMENT = "newDocument"
    READ_DOCUMENT = "readDocument"
    REMINDER = "newDocumentReminder"
    EXPIRATION_ALERT = "documentExpirationAlert"


class Event(models.Model):
    sequence = models.BigAutoField(primary_key=True)
    event_type = models.CharField(max_length=30, choices=EventType.choices)
    event_time = models.DateTimeField(default=timezone.now)
    provider_id = models.CharField(max_length=100)
    correlation_id = models.CharField(max_length=200, blank=True)
    enterprise = models.ForeignKey(Enterprise, on_delete=models.PROTECT, related_name="+")
    # The event's message, as the contract names it (a message of another provider is not a row here).
    message_id = models.CharField(max_length=100)
    receipt_date = models.DateTimeField()
    expiration_date = models.DateTimeField()
    registered_mail = models.BooleanField(default=False)
    message_type_id = models.CharField(max_length=100, blank=True)
    sender_organization_id = models.CharField(max_length=100, blank=True)
    sender_application_id = models.CharField(max_length=100, blank=True)
    subject = models.JSONField(default=dict, blank=True)
    # False for the events of a document that is not an e-Box message (an agent's, coffre.agents):
    # the instant alerts and the nightly digest count them, the event API never shows them.
    in_feed = models.BooleanField(default=True)
    # Follow-up events still to emit for a newDocument of this registry (Europe/Brussels dates):
    # the reminder 15 days after receipt and the alert 7 days before expiry, each only if the
    # message is still unread then. Cleared once handled, so that the daily job reads only the
    # events due that day (an index on each), never every message.
    reminder_due = models.DateField(null=True, blank=True)
    alert_due = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider_id", "correlation_id"],
                condition=~Q(correlation_id=""),
                name="event_correlation_once_per_provider",
            ),
        ]
        indexes = [
            models.Index(fields=["enterprise", "sequence"], name="event_feed_of_enterprise"),
            models.Index(fields=["event_time"], name="event_by_time"),
            models.Index(fields=["provider_id", "message_id", "event_type"], name="event_of_message"),
            models.Index(fields=["reminder_due"], condition=Q(reminder_due__isnull=False), name="event_reminder_due"),
            models.Index(fields=["alert_due"], condition=Q(alert_due__isnull=False), name="event_alert_due"),
        ]

    def __str__(self):
        return f"{self.sequence} {self.event_type} {self.message_id}"
