"""The follow-up events of this registry's messages: ``newDocumentReminder`` (still unread 15 days
after publication) and ``documentExpirationAlert`` (7 days before expiry, only if unread).

A ``newDocument`` event of this registry carries the Brussels dates when its follow-ups fall due
(``reminder_due``, ``alert_due``, each with a partial index). ``emit_due_follow_ups(day)`` reads
only the rows due on or before ``day``, a batch at a time: for each it looks at the message in
this registry and writes the follow-up event when the message is still there, unread and not
expired, then clears the due date, in the same transaction. A batch is done whole or not at all,
and a second call finds nothing left: the function is idempotent, its cost is the number of
follow-ups due (never the number of messages), its memory one batch.

It never decides who is told: the nightly digest (``coffre.notifications``) reads the events.
"""

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from coffre.events.models import Event, EventType
from coffre.events.services import lock_sequence, provider_id

BATCH = 2000


@dataclass
class FollowUpsEmitted:
    reminders: int = 0
    alerts: int = 0
    # Due rows cleared without an event: the message was read, expired or is gone.
    dropped: int = 0


# (due-date column, event type) of each follow-up
_KINDS = (("reminder_due", EventType.REMINDER), ("alert_due", EventType.EXPIRATION_ALERT))
_COPIED = [
    "enterprise_id",
    "in_feed",
    "message_id",
    "receipt_date",
    "registered_mail",
    "message_type_id",
    "sender_organization_id",
    "sender_application_id",
    "subject",
]


def emit_due_follow_ups(
    day: dt.date, *, batch: int = BATCH, now: dt.datetime | None = None
) -> FollowUpsEmitted:
    """Write the reminders and expiry alerts due on or before ``day`` (a Brussels date)."""
    emitted = FollowUpsEmitted()
    for column, event_type in _KINDS:
        while _one_batch(column, event_type, day, batch, now or timezone.now(), emitted):
            pass
    return emitted


def _one_batch(column: str, event_type: str, day: dt.date, batch: int, now: dt.datetime,
               emitted: FollowUpsEmitted) -> bool:
    """Handle up to ``batch`` due rows; False when none was left."""
    with transaction.atomic():
        due = list(
            Event.objects.filter(**{f"{column}__lte": day}, provider_id=provider_id(),
                                 event_type=EventType.NEW_DOCUMENT)
            .order_by(column)
            .values("sequence", *_COPIED)[:batch]
        )
        if not due:
            return False
        messages = _messages_of(due)
        follow_ups = []
        for row in due:
            state = messages.get((row["enterprise_id"], row["message_id"]))
            if state is None or state[0] is not None or state[1] <= now:
                emitted.dropped += 1
                continue
            follow_ups.append(
                Event(
                    event_type=event_type,
                    event_time=now,
                    provider_id=provider_id(),
                    expiration_date=state[1],
                    **{name: row[name] for name in _COPIED},
                )
            )
        if follow_ups:
            lock_sequence()
            Event.objects.bulk_create(follow_ups, batch_size=500)
            if event_type == EventType.REMINDER:
                emitted.reminders += len(follow_ups)
            else:
                emitted.alerts += len(follow_ups)
        Event.objects.filter(sequence__in=[row["sequence"] for row in due]).update(**{column: None})
    return True


def _messages_of(due: list[dict]) -> dict[tuple[int, str], tuple]:
    """(enterprise id, message id) -> (read_at, expiration_date) of the due rows' messages."""
    from coffre.mailbox.models import Message  # the registry's messages (mailbox imports events)

    wanted = {(row["enterprise_id"], row["message_id"]) for row in due}
    found = Message.objects.filter(message_id__in={message_id for _, message_id in wanted}).values_list(
        "ebox__enterprise_id", "message_id", "read_at", "expiration_date"
    )
    return {
        (enterprise_id, message_id): (read_at, expiration)
        for enterprise_id, message_id, read_at, expiration in found
        if (enterprise_id, message_id) in wanted
    }
