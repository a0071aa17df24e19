"""Events submitted by other document providers (``submitEboxEnterpriseDocumentEvents``).

A provider is a webservice client of this registry: its events are stored with ``provider_id`` =
its client id and ``correlation_id`` = its ``eventCorrelationId``, and appear in the feed of the
enterprise they concern like this registry's own events, numbered in commit order.

- **All or nothing.** A submission that names an unknown or closed enterprise, or that conflicts
  with an event already stored, stores nothing; otherwise every new event and the audit record
  commit together.
- **Idempotent by (provider, eventCorrelationId).** An event whose correlation id the provider
  already used, with the same content, is not stored again (a replay after a lost answer); with
  another content it is a ``CorrelationConflict`` (the API's 409). The same holds inside one
  request. An event without correlation id cannot be recognised and is always stored.

This module must never plan follow-ups (``reminder_due``/``alert_due``) for submitted events: the
reminder and the expiry alert depend on the read status of messages this registry keeps, and the
messages of another provider are not among them.
"""

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from coffre.accounts.models import Enterprise
from coffre.audit.services import Actor, record
from coffre.events.models import Event
from coffre.events.services import lock_sequence

SUBMIT_ACTION = "submitEboxEnterpriseDocumentEvents"


@dataclass(frozen=True)
class SubmittedEvent:
    """One ``EboxEnterpriseDocumentEvent`` as a provider sent it, already checked for form."""

    event_type: str
    correlation_id: str  # "" when the provider gave none
    enterprise_cbe: str  # 10 digits
    message_id: str
    receipt_date: dt.datetime
    expiration_date: dt.datetime
    registered_mail: bool
    message_type_id: str = ""
    sender_organization_id: str = ""
    sender_application_id: str = ""
    subject: dict | None = None  # the languages given, without empty texts

    def content(self, enterprise_id: int) -> tuple:
        """What a replay must repeat exactly (instants compared as instants)."""
        return (
            self.event_type,
            enterprise_id,
            self.message_id,
            self.receipt_date,
            self.expiration_date,
            self.registered_mail,
            self.message_type_id,
            self.sender_organization_id,
            self.sender_application_id,
            self.subject or {},
        )


def _content_of(event: Event) -> tuple:
    return (
        event.event_type,
        event.enterprise_id,
        event.message_id,
        event.receipt_date,
        event.expiration_date,
        event.registered_mail,
        event.message_type_id,
        event.sender_organization_id,
        event.sender_application_id,
        event.subject or {},
    )


class UnknownEnterprise(Exception):
    """An event names an enterprise that is not an active enterprise of this registry."""

    def __init__(self, index: int, event: SubmittedEvent):
        self.index = index
        self.event = event
        super().__init__(
            f"item {index}: enterpriseId {event.enterprise_cbe} is not an active enterprise of this registry"
        )


class CorrelationConflict(Exception):
    """eventCorrelationIds already used by the provider (or twice in the request) for another content."""

    def __init__(self, correlation_ids: list[str]):
        self.correlation_ids = correlation_ids
        super().__init__(f"{len(correlation_ids)} eventCorrelationId(s) already used for another content")


@dataclass(frozen=True)
class Submission:
    created: list[Event]
    already_stored: list[str]  # correlation ids replayed with the same content


def _active_enterprises(cbes: set[str]) -> dict[str, int]:
    return dict(Enterprise.objects.filter(cbe__in=sorted(cbes), active=True).values_list("cbe", "id"))


def _row(provider_id: str, item: SubmittedEvent, enterprise_id: int, now: dt.datetime) -> Event:
    return Event(
        event_type=item.event_type,
        event_time=now,
        provider_id=provider_id,
        correlation_id=item.correlation_id,
        enterprise_id=enterprise_id,
        message_id=item.message_id,
        receipt_date=item.receipt_date,
        expiration_date=item.expiration_date,
        registered_mail=item.registered_mail,
        message_type_id=item.message_type_id,
        sender_organization_id=item.sender_organization_id,
        sender_application_id=item.sender_application_id,
        subject=item.subject or {},
        # reminder_due and alert_due stay empty: see the module docstring.
    )


def submit_events(
    provider_id: str, submitted: list[SubmittedEvent], actor: Actor, now: dt.datetime | None = None
) -> Submission:
    """Store the new events of ``provider_id`` (a client id), atomically, with the audit record.

    Raises ``UnknownEnterprise`` (first offending item) or ``CorrelationConflict`` (every
    conflicting id); nothing is stored then.
    """
    now = now or timezone.now()
    with transaction.atomic():
        enterprises = _active_enterprises({item.enterprise_cbe for item in submitted})
        for index, item in enumerate(submitted):
            if item.enterprise_cbe not in enterprises:
                raise UnknownEnterprise(index, item)

        first_of: dict[str, SubmittedEvent] = {}
        conflicts: set[str] = set()
        fresh: list[SubmittedEvent] = []
        for item in submitted:
            key = item.correlation_id
            if not key:
                fresh.append(item)
            elif key not in first_of:
                first_of[key] = item
                fresh.append(item)
            elif first_of[key].content(enterprises[first_of[key].enterprise_cbe]) != item.content(
                enterprises[item.enterprise_cbe]
            ):
                conflicts.add(key)

        # From here on the provider's earlier submissions are all committed and no other event
        # writer runs until this transaction ends: the look-up below cannot miss a concurrent one.
        lock_sequence()
        stored = {
            event.correlation_id: event
            for event in Event.objects.filter(provider_id=provider_id, correlation_id__in=sorted(first_of))
        }
        for key, event in stored.items():
            item = first_of[key]
            if _content_of(event) != item.content(enterprises[item.enterprise_cbe]):
                conflicts.add(key)
        if conflicts:
            raise CorrelationConflict(sorted(conflicts))

        rows = [
            _row(provider_id, item, enterprises[item.enterprise_cbe], now)
            for item in fresh
            if item.correlation_id not in stored
        ]
        created = Event.objects.bulk_create(rows)
        record(
            actor,
            SUBMIT_ACTION,
            status=201,
            details={
                "stored": [
                    {"eventCorrelationId": event.correlation_id or None, "eventType": event.event_type}
                    for event in created
                ],
                "alreadyStored": sorted(stored),
            },
        )
    return Submission(created=created, already_stored=sorted(stored))
