"""Writing events: the ones this registry emits for its own messages, in the transaction of the
change they describe.

Sequence numbers in commit order: a reader that saw event N must never later find an event < N
(it would skip it forever). SQLite has one writer at a time, so its ids are in commit order. On
PostgreSQL concurrent transactions take ids in one order and may commit in another, so writing an
event first takes a transaction-scoped advisory lock: event-writing transactions commit one at a
time from that point. Callers emit as the last statement of their transaction to hold it briefly.
"""

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction

from coffre.events.models import Event, EventType

BRUSSELS = ZoneInfo("Europe/Brussels")
REMINDER_AFTER = dt.timedelta(days=15)
ALERT_BEFORE = dt.timedelta(days=7)
SEQUENCE_LOCK = 0x436F66666572  # "Coffre", the advisory lock key of the event sequence


def provider_id() -> str:
    return settings.COFFRE_EVENT_PROVIDER_ID


def lock_sequence() -> None:
    """Serialise event-writing transactions until commit (PostgreSQL; SQLite already does)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEQUENCE_LOCK])


def brussels_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(BRUSSELS).date()


@dataclass(frozen=True)
class Facts:
    """What an event says of its message besides the message's own columns: the contract ids of
    its enterprise, type and sender (known to a publication without reading them back)."""

    enterprise_id: int
    message_type_id: str
    sender_organization_id: str
    sender_application_id: str = ""


def facts_of(message) -> Facts:
    """The facts of a stored message (reads its e-Box and reference data; an agent's document has
    none)."""
    application = message.sender_application
    message_type, organization = message.message_type, message.sender_organization
    return Facts(
        enterprise_id=message.ebox.enterprise_id,
        message_type_id=message_type.message_type_id if message_type else "",
        sender_organization_id=organization.organization_id if organization else "",
        sender_application_id=application.application_id if application else "",
    )


def _of_message(message, facts: Facts, event_type: str, now: dt.datetime, **extra) -> Event:
    return Event(
        event_type=event_type,
        event_time=now,
        provider_id=provider_id(),
        enterprise_id=facts.enterprise_id,
        message_id=message.message_id,
        receipt_date=message.receipt_date,
        expiration_date=message.expiration_date,
        registered_mail=message.registered_mail,
        message_type_id=facts.message_type_id,
        sender_organization_id=facts.sender_organization_id,
        sender_application_id=facts.sender_application_id,
        subject=message.subject or {},
        **extra,
    )


def follow_ups(receipt: dt.datetime, expiration: dt.datetime) -> dict:
    """When the reminder and the expiry alert of a new message fall due (None: never)."""
    reminder = brussels_day(receipt + REMINDER_AFTER)
    alert = brussels_day(expiration - ALERT_BEFORE)
    expiry = brussels_day(expiration)
    return {
        # A reminder about a message that expires before it is pointless.
        "reminder_due": reminder if reminder < expiry else None,
        # An alert due before the message arrived (short validity) would be sent the next night.
        "alert_due": max(alert, brussels_day(receipt)) if alert < expiry else None,
    }


def new_documents(arrived: list[tuple], now: dt.datetime, *, in_feed: bool = True) -> None:
    """``newDocument`` for messages just stored (publication or broadcast), in their transaction:
    ``arrived`` lists (message, Facts). ``in_feed`` false: documents that are not e-Box messages
    (an agent's): told by the notifications (no reminder or expiry alert), not by the event API."""
    if not arrived:
        return
    lock_sequence()
    Event.objects.bulk_create(
        [
            _of_message(message, facts, EventType.NEW_DOCUMENT, now, in_feed=in_feed,
                        **(follow_ups(message.receipt_date, message.expiration_date) if in_feed else {}))
            for message, facts in arrived
        ]
    )
    # Instant alerts (coffre.notifications) once the arrival is committed; robust: a failure there
    # must not turn a stored publication into an error (the periodic catch-up sends them anyway).
    enterprise_ids = sorted({facts.enterprise_id for _, facts in arrived})
    # (a function, not a partial: Django names the callback by its __qualname__ when it fails)
    transaction.on_commit(lambda: _wake_instant_alerts(enterprise_ids), robust=True)


def _wake_instant_alerts(enterprise_ids: list[int]) -> None:
    from coffre.notifications.services_alerts import wake  # notifications reads events: import late

    wake(enterprise_ids)


def document_read(message, now: dt.datetime, *, in_feed: bool = True) -> None:
    """``readDocument``: the main content of ``message`` was read for the first time (``in_feed``
    as for ``new_documents``: false for an agent's document, so that the digest knows it read)."""
    facts = facts_of(message)
    lock_sequence()
    Event.objects.bulk_create([_of_message(message, facts, EventType.READ_DOCUMENT, now, in_feed=in_feed)])
    # Nothing more to remind: the follow-ups of a read message are never emitted.
    Event.objects.filter(
        provider_id=provider_id(), message_id=message.message_id, enterprise_id=facts.enterprise_id,
        event_type=EventType.NEW_DOCUMENT,
    ).update(reminder_due=None, alert_due=None)
