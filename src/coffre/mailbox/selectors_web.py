"""Reads of the web mailbox: keyset pages of an e-Box's messages, capped counts, and what the list,
message and management pages show.

Pages are found by position, never by OFFSET: a cursor names the last (or first) message of the
page seen, as its (receipt date, row id), and the next page is "the ``size`` messages that come
after it" in the order newest first, (receipt_date DESC, id DESC). That walks the ``message_list``
index (or ``message_unread`` when only unread messages are wanted) from the cursor on, whatever the
depth. Counting every match of a large e-Box on every page would cost more than the page itself:
``capped_count`` stops at a cap and the page says "more than ...".

Every query here starts from one e-Box (``selectors.filtered_messages``); this module never reads
across e-Boxes and never returns expired messages.
"""

import datetime as dt
from dataclasses import dataclass, replace

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from coffre.accounts.models import Enterprise, Membership
from coffre.accounts.permissions import MANAGERS
from coffre.mailbox import selectors
from coffre.mailbox.models import Attachment, Ebox, Message, MessageType, SenderOrganization
from coffre.mailbox.translations import in_language

PAGE_SIZE = 50
COUNT_CAP = 1000
EXPIRING_SOON_DAYS = 30
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)


@dataclass(frozen=True)
class Cursor:
    """A position in the list: a message's receipt date and row id (ties broken by the id)."""

    receipt_date: dt.datetime
    pk: int

    @classmethod
    def of(cls, message: Message) -> "Cursor":
        return cls(message.receipt_date, message.pk)

    def encode(self) -> str:
        micros = (self.receipt_date - _EPOCH) // _MICROSECOND
        return f"{micros}_{self.pk}"

    @classmethod
    def decode(cls, text: str | None) -> "Cursor | None":
        """The cursor written by ``encode``; None for anything else (the page starts over)."""
        if not text or len(text) > 40:
            return None
        micros, sep, pk = text.partition("_")
        if not sep or not pk.isdigit() or not micros.lstrip("-").isdigit():
            return None
        try:
            receipt_date = _EPOCH + int(micros) * _MICROSECOND
        except OverflowError:
            return None
        if int(pk) > 2**63 - 1:
            return None
        return cls(receipt_date, int(pk))


def _older_than(cursor: Cursor) -> Q:
    # Written as a range on receipt_date plus a filter, rather than "a < d OR (a = d AND id < i)",
    # so that the planner scans the index from the cursor on instead of merging two scans.
    return Q(receipt_date__lte=cursor.receipt_date) & (
        Q(receipt_date__lt=cursor.receipt_date) | Q(pk__lt=cursor.pk)
    )


def _newer_than(cursor: Cursor) -> Q:
    return Q(receipt_date__gte=cursor.receipt_date) & (
        Q(receipt_date__gt=cursor.receipt_date) | Q(pk__gt=cursor.pk)
    )


NEWEST_FIRST = ("-receipt_date", "-id")
OLDEST_FIRST = ("receipt_date", "id")


def _any_newer(messages: QuerySet[Message], cursor: Cursor) -> bool:
    # Ordered like the list index, so that the planner walks it from the cursor (an unordered
    # EXISTS may pick the expiry index and read the whole e-Box).
    # (QuerySet.exists() would drop the ORDER BY.)
    return bool(messages.filter(_newer_than(cursor)).order_by(*OLDEST_FIRST).values_list("pk", flat=True)[:1])


def _any_older(messages: QuerySet[Message], cursor: Cursor) -> bool:
    return bool(messages.filter(_older_than(cursor)).order_by(*NEWEST_FIRST).values_list("pk", flat=True)[:1])


@dataclass(frozen=True)
class MessagePage:
    items: list[Message]
    next_cursor: Cursor | None  # the page after this one starts after it
    previous_cursor: Cursor | None  # the page before this one ends before it


def keyset_page(
    messages: QuerySet[Message],
    *,
    after: Cursor | None = None,
    before: Cursor | None = None,
    size: int = PAGE_SIZE,
) -> MessagePage:
    """One page of ``messages``, newest first: the first page, the one after ``after`` or the one
    before ``before``. No message is skipped or shown twice between consecutive pages."""
    if before is None or after is not None:
        window = messages.filter(_older_than(after)) if after else messages
        rows = list(window.order_by(*NEWEST_FIRST)[: size + 1])
        items = rows[:size]
        next_cursor = Cursor.of(items[-1]) if len(rows) > size else None
        if items:
            first = Cursor.of(items[0])
            previous_cursor = first if after is not None and _any_newer(messages, first) else None
        elif after is not None and _any_newer(messages, after):
            # Past the end: the page before ends with the cursor's own message.
            previous_cursor = Cursor(after.receipt_date, after.pk - 1)
        else:
            previous_cursor = None
    else:
        rows = list(messages.filter(_newer_than(before)).order_by(*OLDEST_FIRST)[: size + 1])
        items = rows[:size][::-1]
        previous_cursor = Cursor.of(items[0]) if len(rows) > size else None
        if items:
            last = Cursor.of(items[-1])
            next_cursor = last if _any_older(messages, last) else None
        elif _any_older(messages, before):
            # Before the start: the page after starts with the cursor's own message.
            next_cursor = Cursor(before.receipt_date, before.pk + 1)
        else:
            next_cursor = None
    return MessagePage(items, next_cursor, previous_cursor)


def capped_count(messages: QuerySet, cap: int = COUNT_CAP) -> tuple[int, bool]:
    """How many match, counting at most ``cap + 1``: (count, True) means "more than cap".

    Counted in list order, so that the planner reads the same index as the page (else it may
    prefer the expiry index and read every message of the e-Box to count a few).
    """
    found = messages.order_by(*NEWEST_FIRST).values("pk")[: cap + 1].count()
    return (cap, True) if found > cap else (found, False)


def messages_matching(ebox: Ebox, filters: selectors.MessageFilters) -> QuerySet[Message]:
    """``selectors.filtered_messages``, with the sender and type looked up first and compared by
    key: the planner then walks ``message_by_sender`` / ``message_by_type`` in list order instead of
    joining the reference table and sorting every match."""
    messages = selectors.filtered_messages(
        ebox, replace(filters, sender_organization_id=None, message_type_id=None)
    )
    if filters.sender_organization_id is not None:
        pk = (
            SenderOrganization.objects.filter(organization_id=filters.sender_organization_id)
            .values_list("pk", flat=True)
            .first()
        )
        messages = messages.filter(sender_organization_id=pk) if pk is not None else messages.none()
    if filters.message_type_id is not None:
        pk = (
            MessageType.objects.filter(message_type_id=filters.message_type_id)
            .values_list("pk", flat=True)
            .first()
        )
        messages = messages.filter(message_type_id=pk) if pk is not None else messages.none()
    return messages


def list_rows(messages: QuerySet[Message]) -> QuerySet[Message]:
    """What a list row needs (sender and type names), without the search texts."""
    return messages.select_related("sender_organization", "message_type").defer(
        "search_fr", "search_nl", "search_de", "search_en", "body", "business_data"
    )


def attachment_counts(items: list[Message]) -> dict[int, int]:
    rows = (
        Attachment.objects.filter(message_id__in=[item.pk for item in items])
        .values("message_id")
        .annotate(n=Count("id"))
        .values_list("message_id", "n")
    )
    return dict(rows)


def expiring_before(today: dt.date | None = None) -> dt.date:
    """The ``expired_before`` day of "expiring soon": expiry within EXPIRING_SOON_DAYS days."""
    today = today or timezone.localdate()
    return today + dt.timedelta(days=EXPIRING_SOON_DAYS + 1)


def sender_choices(lang: str) -> list[tuple[str, str]]:
    """Sender organizations (reference data: a small table) by their short name in ``lang``."""
    choices = [
        (organization_id, in_language(short_name, lang) or organization_id)
        for organization_id, short_name in SenderOrganization.objects.values_list(
            "organization_id", "short_name"
        )
    ]
    return sorted(choices, key=lambda item: item[1].casefold())


def message_type_choices(lang: str) -> list[tuple[str, str]]:
    choices = [
        (message_type_id, in_language(name, lang) or message_type_id)
        for message_type_id, name in MessageType.objects.values_list("message_type_id", "name")
    ]
    return sorted(choices, key=lambda item: item[1].casefold())


def manager_count(enterprise: Enterprise) -> int:
    """How many people hold an access manager role (seed 000: several suggest a group address)."""
    return Membership.objects.filter(enterprise=enterprise, role__in=MANAGERS).count()


def failing_notification_addresses(user) -> list[Enterprise]:
    """The enterprises whose notification address is failing and whose e-Box the person manages
    (Action.MANAGE_EBOX: the access managers), for the notice on every portal page."""
    if not getattr(user, "is_authenticated", False):
        return []
    return list(
        Enterprise.objects.filter(
            active=True,
            ebox__notification_status="failing",
            memberships__user=user,
            memberships__role__in=MANAGERS,
        )
        .distinct()
        .order_by("name")[:10]
    )
