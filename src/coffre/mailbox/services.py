"""Every change to e-Boxes and their messages: publication, broadcast, reading, visibility.

Each service is atomic and writes its audit record in the same transaction. A publication is all
or nothing: its content is staged in the document store first (``coffre.mailbox.store``), then
the message, its attachments, its payment data and the audit record commit together; a failure
at any point leaves no visible message, and staged content is removed (or, if the process dies,
found later by ``cleanup_orphan_blobs``).
"""

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from coffre.accounts.models import Enterprise
from coffre.audit.services import Actor, record
from coffre.core import rows
from coffre.events import services as events
from coffre.mailbox import selectors_publication, store
from coffre.mailbox.models import (
    Attachment,
    Ebox,
    Message,
    MessageType,
    Origin,
    PaymentData,
)
from coffre.mailbox.translations import LANGUAGES, in_language, search_text

CONSULTATION_RESOLUTION_SECONDS = 60


class PublicationRefused(Exception):
    """A publication the contract refuses; ``code`` is the StatusMessage code."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class MessageNotFound(Exception):
    pass


@dataclass(frozen=True)
class Publisher:
    """Who publishes: a webservice client of an enterprise (its CBE is the sender organization)."""

    client_id: str
    cbe: str


@dataclass
class AttachmentDraft:
    content: store.StagedContent
    file_name: str
    media_type: str
    main_content: bool
    title: dict | None = None
    signed: bool = False


@dataclass
class PaymentDraft:
    amount: Decimal
    vat_amount: Decimal
    currency: str
    due_date: datetime
    iban: str
    bic: str = ""
    reference: object = None
    payment_data_id: str = ""


@dataclass
class MessageDraft:
    recipient_cbe: str
    subject: dict
    message_type_id: str
    sender_organization_id: str
    sender_application_id: str | None = None
    body: dict | None = None
    body_main_content: bool = False
    reply_authorized: bool = False
    registered_mail: bool = False
    for_attention: dict | None = None
    original_message_id: str = ""
    business_data: list = field(default_factory=list)
    payment: PaymentDraft | None = None
    expiration_date: datetime | None = None
    attachments: list[AttachmentDraft] = field(default_factory=list)


@dataclass(frozen=True)
class Published:
    message_id: str
    expiration_date: datetime
    no_digital_user: bool


@dataclass(frozen=True)
class Linked:
    message_id: str
    expiration_date: datetime
    linked: int
    refused: list[str]


def create_ebox(enterprise: Enterprise) -> Ebox:
    return Ebox.objects.create(enterprise=enterprise)


def note_consultation(ebox: Ebox, now: datetime | None = None) -> None:
    """Remember that the enterprise consulted its e-Box (at most one write a minute)."""
    now = now or timezone.now()
    stale = now - relativedelta(seconds=CONSULTATION_RESOLUTION_SECONDS)
    if ebox.last_consulted_at is not None and ebox.last_consulted_at >= stale:
        return
    Ebox.objects.filter(Q(last_consulted_at__isnull=True) | Q(last_consulted_at__lt=stale), pk=ebox.pk).update(
        last_consulted_at=now
    )


def expiration_for(message_type: MessageType | selectors_publication.Authorisation, receipt: datetime) -> datetime:
    number = message_type.validity_number
    delta = {
        "day": relativedelta(days=number),
        "month": relativedelta(months=number),
        "year": relativedelta(years=number),
    }[message_type.validity_unit]
    return receipt + delta


def message_search_texts(subject: dict, business_data: list, for_attention: dict | None) -> dict:
    """The normalised searchable text of a message, per language (see NOTES.md, text search)."""
    attention = [(for_attention or {}).get("id", ""), (for_attention or {}).get("name", "")]
    texts = {}
    for lang in LANGUAGES:
        parts = [in_language(subject, lang)]
        for item in business_data:
            parts.extend(in_language(value, lang) for value in item.get("values", []))
        parts.extend(attention)
        texts[f"search_{lang}"] = search_text(parts)
    return texts


def _authorised_sender(draft: MessageDraft, publisher: Publisher) -> selectors_publication.Authorisation:
    if draft.sender_organization_id != publisher.cbe:
        raise PublicationRefused(
            "INVALID_SENDER", "senderOrganizationId must be the CBE number of the token's enterprise."
        )
    key = (draft.sender_organization_id, draft.sender_application_id, draft.message_type_id)
    allowed = selectors_publication.authorisation(*key)
    if allowed is None:
        raise PublicationRefused("INVALID_SENDER", selectors_publication.sender_refusal(*key))
    return allowed


def _recipient(cbe: str) -> selectors_publication.Recipient:
    recipient = selectors_publication.recipient(cbe)
    if recipient is None:
        raise PublicationRefused("INVALID_INPUT", f"The recipient {cbe} is not an active enterprise of this registry.")
    return recipient


def publish_message(draft: MessageDraft, publisher: Publisher, actor: Actor) -> Published:
    """Store a message with all its attachments in the recipient's e-Box, or nothing."""
    contents = [attachment.content for attachment in draft.attachments]
    try:
        allowed = _authorised_sender(draft, publisher)
        recipient = _recipient(draft.recipient_cbe)
        now = timezone.now()
        expiration = draft.expiration_date or expiration_for(allowed, now)
        if expiration <= now:
            raise PublicationRefused("INVALID_INPUT", "expirationDate must be in the future.")
        # Everything that needs no database is prepared before the transaction: SQLite has one
        # writer at a time, so the time spent inside it bounds the publication rate.
        message = Message(
            message_id=str(uuid.uuid4()),
            ebox_id=recipient.ebox_id,
            subject=draft.subject,
            receipt_date=now,
            expiration_date=expiration,
            registered_mail=draft.registered_mail,
            for_attention_id=(draft.for_attention or {}).get("id", ""),
            for_attention_type=(draft.for_attention or {}).get("type", ""),
            for_attention_name=(draft.for_attention or {}).get("name", ""),
            message_type_id=allowed.message_type_pk,
            sender_organization_id=allowed.organization_pk,
            sender_application_id=allowed.application_pk,
            original_message_id=draft.original_message_id,
            body=draft.body,
            body_main_content=draft.body_main_content,
            business_data=draft.business_data,
            reply_authorized=draft.reply_authorized,
            attachments_size=sum(content.size for content in contents),
            publisher_client_id=publisher.client_id,
            **message_search_texts(draft.subject, draft.business_data, draft.for_attention),
        )
        store.stage(contents)
        # The rows are written with statements built once per process (coffre.core.rows): the
        # ORM's per-call SQL building is work done while SQLite's single writer is held.
        with transaction.atomic():
            rows.insert([message])
            attachments = [
                Attachment(
                    message=message,
                    attachment_id=str(uuid.uuid4()),
                    position=position,
                    title=item.title,
                    file_name=item.file_name,
                    media_type=item.media_type,
                    main_content=item.main_content,
                    signed=item.signed,
                    blob=store.adopt(recipient.enterprise_id, item.content),
                )
                for position, item in enumerate(draft.attachments)
            ]
            rows.insert(attachments)
            payment = _payment(message, draft.payment)
            if payment is not None:
                rows.insert([payment])
            events.new_documents([(message, events.Facts(
                enterprise_id=recipient.enterprise_id,
                message_type_id=draft.message_type_id,
                sender_organization_id=draft.sender_organization_id,
                sender_application_id=draft.sender_application_id or "",
            ))], now)
            record(
                actor,
                "publishMessage",
                status=201,
                details={
                    "messageId": message.message_id,
                    "recipient": recipient.cbe,
                    "originalMessageId": draft.original_message_id or None,
                    "paymentDataId": payment.payment_data_id if payment else None,
                    "attachments": [_audit_attachment(item) for item in attachments],
                },
            )
    except BaseException:
        store.abandon(contents)
        raise
    return Published(message.message_id, expiration, no_digital_user=recipient.last_consulted_at is None)


def _payment(message: Message, draft: PaymentDraft | None) -> PaymentData | None:
    if draft is None:
        return None
    return payment_of(message, draft)


def payment_of(message: Message, draft: PaymentDraft) -> PaymentData:
    """The (unsaved) payment data of a message (publication, or an agent's document)."""
    return PaymentData(
        message=message,
        payment_data_id=draft.payment_data_id or str(uuid.uuid4()),
        amount=draft.amount,
        vat_amount=draft.vat_amount,
        currency=draft.currency,
        due_date=draft.due_date,
        iban=draft.iban,
        bic=draft.bic,
        reference=draft.reference,
    )


def _audit_attachment(attachment: Attachment) -> dict:
    return {
        "attachmentId": attachment.attachment_id,
        "mediaType": attachment.media_type,
        "size": attachment.blob.size,
        "digest": attachment.blob.sha256,
    }


def link_message(message_id: str, recipient_cbes: list[str], publisher: Publisher, actor: Actor) -> Linked:
    """Broadcast: put a message published by this sender in other e-Boxes, content stored once.

    Recipients that are not active enterprises are returned as refused; an e-Box that already has
    the message counts as linked (the call is idempotent).
    """
    with transaction.atomic():
        original = (
            Message.objects.filter(
                message_id=message_id, sender_organization__organization_id=publisher.cbe, origin=Origin.API
            )
            .select_related("payment_data")
            .order_by("id")
            .first()
        )
        if original is None:
            raise MessageNotFound(message_id)
        wanted = list(dict.fromkeys(recipient_cbes))
        eboxes = {
            ebox.enterprise.cbe: ebox
            for ebox in Ebox.objects.select_related("enterprise").filter(
                enterprise__cbe__in=wanted, enterprise__active=True
            )
        }
        refused = [cbe for cbe in wanted if cbe not in eboxes]
        already = set(
            Message.objects.filter(message_id=message_id, ebox__in=eboxes.values()).values_list(
                "ebox__enterprise__cbe", flat=True
            )
        )
        now = timezone.now()
        attachments = list(original.attachments.all())
        payment = getattr(original, "payment_data", None)
        copies = [
            _copy_message(original, ebox, now, publisher.client_id)
            for cbe, ebox in eboxes.items()
            if cbe not in already
        ]
        Message.objects.bulk_create(copies)  # sets the primary keys (RETURNING)
        Attachment.objects.bulk_create([_clone(item, message=copy) for copy in copies for item in attachments])
        if payment is not None:
            PaymentData.objects.bulk_create([_clone(payment, message=copy) for copy in copies])
        if copies:
            facts = events.facts_of(original)
            events.new_documents(
                [(copy, replace(facts, enterprise_id=copy.ebox.enterprise_id)) for copy in copies], now
            )
        record(
            actor,
            "linkEboxMessage",
            status=201,
            details={
                "messageId": message_id,
                "linked": sorted(cbe for cbe in eboxes if cbe not in already),
                "alreadyLinked": sorted(already),
                "refused": refused,
            },
        )
    return Linked(message_id, original.expiration_date, linked=len(eboxes), refused=refused)


def _clone(instance, **changes):
    """An unsaved copy of ``instance`` with ``changes`` (field names), without its primary key."""
    replaced = set()
    for name in changes:
        field = instance._meta.get_field(name)
        replaced |= {field.name, field.attname}
    values = {
        field.attname: getattr(instance, field.attname)
        for field in instance._meta.concrete_fields
        if not field.primary_key and field.attname not in replaced
    }
    return type(instance)(**values, **changes)


def _copy_message(original: Message, ebox: Ebox, now: datetime, client_id: str) -> Message:
    """The message as it arrives in another e-Box: new, unread, visible."""
    return _clone(original, ebox=ebox, receipt_date=now, read_at=None, visible=True, created_at=now,
                  publisher_client_id=client_id)


def mark_read_if_main(message: Message, *, main_content: bool) -> bool:
    """Consulting the main content reads the message; True when this call read it first."""
    if not main_content or message.read_at is not None:
        return False
    now = timezone.now()
    first = Message.objects.filter(pk=message.pk, read_at__isnull=True).update(read_at=now) == 1
    if first:
        message.read_at = now
        if message.origin == Origin.API:  # the e-Box API's messages have events
            events.document_read(message, now)
        elif message.origin == Origin.AGENT and message.ebox.enterprise_id is not None:
            # An agent's document told the notifications it arrived; they learn it was read.
            events.document_read(message, now, in_feed=False)
    return first


def consult(message: Message, actor: Actor, action: str, *, main_content: bool, details: dict) -> bool:
    """Record that a person or client consulted ``message`` (a page, a document), reading the
    message when what they opened is its main content; True when this call read it first."""
    with transaction.atomic():
        first_read = mark_read_if_main(message, main_content=main_content)
        record(actor, action, status=200, details={"messageId": message.message_id, **details,
                                                   "markedRead": first_read})
    return first_read


def set_visibility(
    ebox: Ebox,
    changes: dict[str, bool],
    actor: Actor,
    now: datetime | None = None,
    *,
    origin: str | None = Origin.API,
) -> None:
    """Hide or show messages of the e-Box; all of them or, if one is unknown, none. ``origin``:
    the messages that may be named (the API's by default; the portal passes None: any)."""
    now = now or timezone.now()
    with transaction.atomic():
        candidates = Message.objects.filter(ebox=ebox, message_id__in=changes, expiration_date__gt=now)
        if origin is not None:
            candidates = candidates.filter(origin=origin)
        found = set(candidates.values_list("message_id", flat=True))
        missing = sorted(set(changes) - found)
        if missing:
            raise MessageNotFound(", ".join(missing))
        for visible in (True, False):
            ids = [message_id for message_id, wanted in changes.items() if wanted is visible]
            if ids:
                Message.objects.filter(ebox=ebox, message_id__in=ids).update(visible=visible)
        record(
            actor,
            "patchMessages",
            status=200,
            details={"messages": [{"messageId": key, "visible": value} for key, value in changes.items()]},
        )
