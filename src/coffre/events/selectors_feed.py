"""Reads of the event feed (``getEboxEnterpriseDocumentEvents``): one enterprise's events after a
sequence number, in sequence order.

A page is "the first ``size`` events of this enterprise whose sequence is above the reader's last
one": a keyset on the ``event_feed_of_enterprise`` index (enterprise, sequence), never an OFFSET,
so that a page costs the same at any depth. Because sequence numbers appear in commit order
(``services.lock_sequence``), a reader that pages with the last number it saw never skips an
event and never sees one twice.

Every read here is scoped to the one enterprise the caller names (the token's own): this module
never reads across enterprises.
"""

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from coffre.events.models import Event

#: The columns a feed item shows (the follow-up dates are internal).
FEED_FIELDS = (
    "sequence",
    "event_type",
    "event_time",
    "provider_id",
    "correlation_id",
    "message_id",
    "receipt_date",
    "expiration_date",
    "registered_mail",
    "message_type_id",
    "sender_organization_id",
    "sender_application_id",
    "subject",
    "enterprise__cbe",
)


@dataclass(frozen=True)
class FeedPage:
    events: list[Event]
    has_next: bool  # more events match after the last one of this page


def feed_page(
    enterprise_id: int,
    after: int,
    size: int,
    *,
    since: dt.datetime | None = None,
    event_types: Collection[str] | None = None,
) -> FeedPage:
    """The enterprise's events with ``sequence > after`` (and ``event_time >= since``, of one of
    ``event_types`` when given), at most ``size`` of them, in sequence order; never the events of
    documents that are not e-Box messages (``Event.in_feed``)."""
    events = Event.objects.filter(enterprise_id=enterprise_id, sequence__gt=after, in_feed=True)
    if since is not None:
        events = events.filter(event_time__gte=since)
    if event_types:
        events = events.filter(event_type__in=sorted(event_types))
    rows = list(events.select_related("enterprise").order_by("sequence").only(*FEED_FIELDS)[: size + 1])
    return FeedPage(rows[:size], len(rows) > size)
