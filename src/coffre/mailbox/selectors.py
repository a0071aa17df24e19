"""Reads of e-Boxes and messages, always scoped to one e-Box (the caller's own).

Expired messages are no longer available: every read here leaves them out. By default every read
is the e-Box API's view: messages of origin "api" only (``origin=Origin.API``); the portal asks
for every origin (``origin=None``) of one space (``folder``).
"""

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import Count, Max, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from coffre.accounts.models import Enterprise
from coffre.core import rows
from coffre.mailbox import selectors_rows
from coffre.mailbox.models import (
    Attachment,
    Ebox,
    Message,
    MessageType,
    Origin,
    SenderApplication,
    SenderOrganization,
)
from coffre.mailbox.selectors_rows import ListedMessage
from coffre.mailbox.translations import in_language, normalize

BRUSSELS = ZoneInfo("Europe/Brussels")
SEARCH_LANGUAGES = ("fr", "nl", "de", "en")
# From this offset on, a page is found by its ids first (see page_of_messages).
DEEP_OFFSET = 500


@dataclass(frozen=True)
class MessageFilters:
    """The criteria of ``GET /ebox/messages``, all applied together. Dates are calendar days in
    Europe/Brussels: ``received_after=D`` keeps messages received on D or later,
    ``received_before=D`` those received before D (the same for expiry)."""

    received_before: dt.date | None = None
    received_after: dt.date | None = None
    expired_before: dt.date | None = None
    expired_after: dt.date | None = None
    read: bool | None = None
    visible: bool | None = None
    registered_mail: bool | None = None
    message_type_id: str | None = None
    sender_organization_id: str | None = None
    sender_application_id: str | None = None
    q: str | None = None
    qlang: str | None = None
    # Not criteria of the API: the API's view (origin "api", every folder) unless the portal says.
    origin: str | None = Origin.API
    folder: str | None = None


@dataclass(frozen=True)
class Summary:
    number_of_messages: int
    number_of_unread_messages: int
    last_receipt_date: dt.datetime | None
    last_consultation_date: dt.datetime | None
    size_bytes: int


_EBOX_FIELDS = tuple(Ebox._meta.concrete_fields)
_ENTERPRISE_FIELDS = tuple(Enterprise._meta.concrete_fields)
# Every API call of the consultation profile starts here: written once rather than built by the
# ORM on each call (0.7 ms of Python for a look-up on a unique index, docs/benchmarks.md).
_EBOX_OF = (
    "SELECT "
    + ", ".join([f'b."{field.column}"' for field in _EBOX_FIELDS])
    + ", "
    + ", ".join([f'e."{field.column}"' for field in _ENTERPRISE_FIELDS])
    + ' FROM "mailbox_ebox" b JOIN "accounts_enterprise" e ON e."id" = b."enterprise_id"'
    + ' WHERE e."cbe" = %s AND e."active" = %s'
)


def ebox_of(cbe: str) -> Ebox | None:
    """The e-Box of an active enterprise, with its enterprise."""
    row = rows.fetch_one(_EBOX_OF, [cbe, True], _EBOX_FIELDS + _ENTERPRISE_FIELDS)
    if row is None:
        return None
    ebox = Ebox.from_db("default", [field.attname for field in _EBOX_FIELDS], row[: len(_EBOX_FIELDS)])
    ebox.enterprise = Enterprise.from_db(
        "default", [field.attname for field in _ENTERPRISE_FIELDS], row[len(_EBOX_FIELDS) :]
    )
    return ebox


def available_messages(
    ebox: Ebox | int,
    now: dt.datetime | None = None,
    *,
    origin: str | None = Origin.API,
    folder: str | None = None,
) -> QuerySet[Message]:
    """The messages of the box not expired yet: of ``origin`` (None: every origin), in ``folder``
    (None: every folder)."""
    messages = Message.objects.filter(ebox=ebox, expiration_date__gt=now or timezone.now())
    if origin is not None:
        messages = messages.filter(origin=origin)
    if folder is not None:
        messages = messages.filter(folder=folder)
    return messages


def summary(ebox: Ebox, now: dt.datetime | None = None) -> Summary:
    """The API's summary of an e-Box (its messages of origin "api")."""
    totals = available_messages(ebox, now).aggregate(
        count=Count("id"),
        unread=Count("id", filter=Q(read_at__isnull=True)),
        last=Max("receipt_date"),
        size=Sum("attachments_size"),
    )
    return Summary(
        number_of_messages=totals["count"],
        number_of_unread_messages=totals["unread"],
        last_receipt_date=totals["last"],
        last_consultation_date=ebox.last_consulted_at,
        size_bytes=totals["size"] or 0,
    )


def _day_start(day: dt.date) -> dt.datetime:
    if day == dt.date.min:  # 0001-01-01 in Brussels is still year 0 in UTC: no datetime holds it
        return dt.datetime.min.replace(tzinfo=dt.UTC)
    return dt.datetime.combine(day, dt.time.min, tzinfo=BRUSSELS)


def reference_matches(query: str, lang: str) -> tuple[list[int], list[int], list[int]]:
    """Ids of the organizations, applications and message types whose names or descriptions in
    ``lang`` contain the normalised query (reference data is small: scanned in memory)."""

    def matches(*texts) -> bool:
        return any(query in normalize(in_language(text, lang)) for text in texts)

    organizations = [
        pk
        for pk, short, long in SenderOrganization.objects.values_list("pk", "short_name", "long_name")
        if matches(short, long)
    ]
    applications = [
        pk
        for pk, name, description in SenderApplication.objects.values_list("pk", "name", "description")
        if matches(name, description)
    ]
    types = [
        pk
        for pk, name, description in MessageType.objects.values_list("pk", "name", "description")
        if matches(name, description)
    ]
    return organizations, applications, types


def _text_condition(query: str, lang: str) -> Q:
    normalized = normalize(query)
    organizations, applications, types = reference_matches(normalized, lang)
    condition = Q(**{f"search_{lang}__contains": normalized})
    if organizations:
        condition |= Q(sender_organization_id__in=organizations)
    if applications:
        condition |= Q(sender_application_id__in=applications)
    if types:
        condition |= Q(message_type_id__in=types)
    return condition


def filtered_messages(ebox: Ebox, filters: MessageFilters, now: dt.datetime | None = None) -> QuerySet[Message]:
    messages = available_messages(ebox, now, origin=filters.origin, folder=filters.folder)
    if filters.received_before:
        messages = messages.filter(receipt_date__lt=_day_start(filters.received_before))
    if filters.received_after:
        messages = messages.filter(receipt_date__gte=_day_start(filters.received_after))
    if filters.expired_before:
        messages = messages.filter(expiration_date__lt=_day_start(filters.expired_before))
    if filters.expired_after:
        messages = messages.filter(expiration_date__gte=_day_start(filters.expired_after))
    if filters.read is not None:
        messages = messages.filter(read_at__isnull=not filters.read)
    if filters.visible is not None:
        messages = messages.filter(visible=filters.visible)
    if filters.registered_mail is not None:
        messages = messages.filter(registered_mail=filters.registered_mail)
    # Reference data by code, as subqueries rather than joins: the WHERE clause then names the
    # messages' own columns only (selectors_rows builds the rest of the statements around it).
    if filters.message_type_id is not None:
        messages = messages.filter(
            message_type__in=MessageType.objects.filter(message_type_id=filters.message_type_id).values("pk")
        )
    if filters.sender_organization_id is not None:
        messages = messages.filter(
            sender_organization__in=SenderOrganization.objects.filter(
                organization_id=filters.sender_organization_id
            ).values("pk")
        )
    if filters.sender_application_id is not None:
        messages = messages.filter(
            sender_application__in=SenderApplication.objects.filter(
                application_id=filters.sender_application_id
            ).values("pk")
        )
    if filters.q:
        messages = messages.filter(_text_condition(filters.q, filters.qlang))
    return messages


def page_of_messages(
    ebox: Ebox | int, filters: MessageFilters, page: int, page_size: int, now: dt.datetime | None = None
) -> tuple[list[ListedMessage], int]:
    """A page of the e-Box's messages matching ``filters``, newest first, and how many match.

    The ORM states the filters; the count, the page and its attachments are then read with
    written SQL around the ORM's WHERE clause (``selectors_rows``).
    """
    where = selectors_rows.where_of(filtered_messages(ebox, filters, now))
    if where is None:
        return [], 0
    total = selectors_rows.count(where)
    offset = (page - 1) * page_size
    if offset >= total:
        return [], total
    return selectors_rows.page(where, offset, page_size, deep=offset >= DEEP_OFFSET), total


def listed_message(ebox: Ebox | int, message_id: str, now: dt.datetime | None = None) -> ListedMessage | None:
    where = selectors_rows.where_of(available_messages(ebox, now).filter(message_id=message_id))
    found = selectors_rows.page(where, 0, 1) if where is not None else []
    return found[0] if found else None


def message_in(
    ebox: Ebox, message_id: str, now: dt.datetime | None = None, *, origin: str | None = Origin.API
) -> Message | None:
    """A message of the box by its id (of ``origin``; the portal passes None: any origin)."""
    return (
        available_messages(ebox, now, origin=origin)
        .filter(message_id=message_id)
        .select_related("payment_data")
        .defer("search_fr", "search_nl", "search_de", "search_en")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.select_related("blob")))
        .first()
    )


def attachment_of(message: Message, attachment_id: str) -> Attachment | None:
    return next((item for item in message.attachments.all() if item.attachment_id == attachment_id), None)


def statuses_of_publications(sender_cbe: str, pairs: list[tuple[str, str]]) -> list[Message]:
    """The messages among (messageId, recipient CBE) pairs that this sender organization published."""
    if not pairs:
        return []
    message_ids = {message_id for message_id, _ in pairs}
    wanted = set(pairs)
    candidates = Message.objects.filter(
        message_id__in=message_ids, sender_organization__organization_id=sender_cbe, origin=Origin.API
    ).select_related("ebox__enterprise")
    return [message for message in candidates if (message.message_id, message.ebox.enterprise.cbe) in wanted]
