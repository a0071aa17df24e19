"""Messages as the API's ``Message`` output shows them, read with written SQL around the ORM's WHERE.

The message list is the most frequent read of the API. Built by the ORM, its page cost a few
milliseconds of Python for a millisecond of SQLite: two compilations of the same filters (the
count and the page), joins to the reference data and the payment data, a prefetch of the
attachments, a hundred model instances (docs/benchmarks.md). Here the ORM only states and
compiles the filters, once (``where_of``); the statements around them are written once, and
the rows are plain values, each column converted as its model field would be
(``coffre.core.rows``), the same on SQLite and PostgreSQL.

``where_of`` accepts only a queryset of messages whose filters name the messages' own columns
(subqueries are fine, joins are not: see ``selectors.filtered_messages``); anything else is a
programming error, refused loudly rather than read wrongly. Nothing here checks who may read:
callers pass a queryset already scoped to one e-Box.
"""

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet

from coffre.core import rows
from coffre.mailbox.models import Attachment, Blob, Message, MessageType, PaymentData, SenderApplication
from coffre.mailbox.models import SenderOrganization


@dataclass(frozen=True)
class BlobFacts:
    size: int
    sha256: str


@dataclass(frozen=True)
class ListedAttachment:
    """An attachment as the message outputs show it (the same names as ``Attachment``)."""

    attachment_id: str
    title: dict | None
    file_name: str
    media_type: str
    main_content: bool
    signed: bool
    blob: BlobFacts


@dataclass(frozen=True)
class ListedPayment:
    payment_data_id: str
    amount: object
    vat_amount: object
    currency: str
    due_date: dt.datetime
    iban: str
    bic: str
    reference: object


@dataclass(frozen=True)
class ListedMessage:
    """A message as the contract's ``Message`` output shows it: plain values, no model instance.

    Reference data is named by code only (``message_type_code``, ``organization_code``,
    ``application_code``: None without application) and the search texts are never read.
    """

    message_id: str
    subject: dict
    receipt_date: dt.datetime
    expiration_date: dt.datetime
    read_at: dt.datetime | None
    visible: bool
    registered_mail: bool
    for_attention_id: str
    for_attention_type: str
    for_attention_name: str
    original_message_id: str
    body_main_content: bool
    reply_authorized: bool
    business_data: list
    message_type_code: str
    organization_code: str
    application_code: str | None
    payment_data: ListedPayment | None
    attachments: list[ListedAttachment]


@dataclass(frozen=True)
class Where:
    sql: str
    params: list
    using: str


_MESSAGE_COLUMNS = (
    "id", "message_id", "subject", "receipt_date", "expiration_date", "read_at", "visible", "registered_mail",
    "for_attention_id", "for_attention_type", "for_attention_name", "original_message_id", "body_main_content",
    "reply_authorized", "business_data",
)
_PAYMENT_COLUMNS = ("payment_data_id", "amount", "vat_amount", "currency", "due_date", "iban", "bic", "reference")
_SELECT = (
    "SELECT "
    + ", ".join(f'"mailbox_message"."{name}"' for name in _MESSAGE_COLUMNS)
    + ', "mailbox_messagetype"."message_type_id", "mailbox_senderorganization"."organization_id"'
    + ', "mailbox_senderapplication"."application_id", '
    + ", ".join(f'"mailbox_paymentdata"."{name}"' for name in _PAYMENT_COLUMNS)
    + """
    FROM "mailbox_message"
    INNER JOIN "mailbox_messagetype" ON "mailbox_messagetype"."id" = "mailbox_message"."message_type_id"
    INNER JOIN "mailbox_senderorganization"
        ON "mailbox_senderorganization"."id" = "mailbox_message"."sender_organization_id"
    LEFT OUTER JOIN "mailbox_senderapplication"
        ON "mailbox_senderapplication"."id" = "mailbox_message"."sender_application_id"
    LEFT OUTER JOIN "mailbox_paymentdata" ON "mailbox_paymentdata"."message_id" = "mailbox_message"."id"
    """
)
_FIELDS = (
    *(rows.field(Message, name) for name in _MESSAGE_COLUMNS),
    rows.field(MessageType, "message_type_id"),
    rows.field(SenderOrganization, "organization_id"),
    rows.field(SenderApplication, "application_id"),
    *(rows.field(PaymentData, name) for name in _PAYMENT_COLUMNS),
)
_NEWEST_FIRST = ' ORDER BY "mailbox_message"."receipt_date" DESC, "mailbox_message"."id" DESC'
_ATTACHMENTS = """
    SELECT a."message_id", a."attachment_id", a."title", a."file_name", a."media_type", a."main_content",
        a."signed", b."size", b."sha256"
    FROM "mailbox_attachment" a INNER JOIN "mailbox_blob" b ON b."id" = a."blob_id"
    WHERE a."message_id" IN ({ids})
    ORDER BY a."message_id", a."position"
"""
_ATTACHMENT_FIELDS = (
    None,
    *(rows.field(Attachment, name) for name in
      ("attachment_id", "title", "file_name", "media_type", "main_content", "signed")),
    rows.field(Blob, "size"),
    rows.field(Blob, "sha256"),
)


def where_of(messages: QuerySet[Message]) -> Where | None:
    """The compiled filters of a queryset of messages; None when it can match nothing."""
    query = messages.query
    if query.model is not Message:
        raise ValueError("where_of reads querysets of messages")
    compiler = query.get_compiler(messages.db)
    try:
        sql, params = compiler.compile(query.where)
    except EmptyResultSet:
        return None
    # Joins the ORM set up then trimmed (ebox=... reads ebox_id) stay in alias_map, unreferenced.
    if any(query.alias_refcount[alias] for alias in query.alias_map if alias != Message._meta.db_table):
        raise ValueError("the filters join other tables: state them as subqueries")
    return Where(sql or "1 = 1", list(params), messages.db)


def count(where: Where) -> int:
    with connections[where.using].cursor() as cursor:
        cursor.execute(f'SELECT COUNT(*) FROM "mailbox_message" WHERE {where.sql}', where.params)
        return cursor.fetchone()[0]


def page(where: Where, offset: int, size: int, *, deep: bool = False) -> list[ListedMessage]:
    """``size`` messages from ``offset`` on, newest first, with their attachments.

    A deep page is found by its ids first, on the list index alone (it holds the expiry), then
    only its messages are read and joined, rather than every message skipped.
    """
    if deep:
        found = rows.fetch_all(
            f'SELECT "mailbox_message"."id" FROM "mailbox_message" WHERE {where.sql}{_NEWEST_FIRST} LIMIT %s OFFSET %s',
            [*where.params, size, offset], [None], using=where.using,
        )
        ids = [pk for (pk,) in found]
        if not ids:
            return []
        statement = f'{_SELECT} WHERE "mailbox_message"."id" IN ({", ".join(["%s"] * len(ids))}){_NEWEST_FIRST}'
        found = rows.fetch_all(statement, ids, _FIELDS, using=where.using)
    else:
        found = rows.fetch_all(
            f"{_SELECT} WHERE {where.sql}{_NEWEST_FIRST} LIMIT %s OFFSET %s",
            [*where.params, size, offset], _FIELDS, using=where.using,
        )
    return _listed(found, where.using)


def _listed(found: list[tuple], using: str) -> list[ListedMessage]:
    if not found:
        return []
    attachments: dict[int, list[ListedAttachment]] = {row[0]: [] for row in found}
    for message_pk, *values, size, sha256 in rows.fetch_all(
        _ATTACHMENTS.format(ids=", ".join(["%s"] * len(attachments))), list(attachments), _ATTACHMENT_FIELDS,
        using=using,
    ):
        attachments[message_pk].append(ListedAttachment(*values, BlobFacts(size, sha256)))
    width = len(_MESSAGE_COLUMNS)
    listed = []
    for row in found:
        payment = row[width + 3 :]
        listed.append(
            ListedMessage(
                *row[1 : width + 3],
                payment_data=ListedPayment(*payment) if payment[0] is not None else None,
                attachments=attachments[row[0]],
            )
        )
    return listed
