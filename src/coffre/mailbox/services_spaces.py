"""People's boxes ("My documents") and documents that arrive outside the e-Box API (by e-mail, from
an agent): each document becomes one message of a space (a folder of a box), encrypted in the
document store like every other, never twice in the same space.

``file_documents`` runs inside the caller's transaction, which writes the audit record of the
whole operation (e.g. one received mail); the content was staged before it
(``coffre.mailbox.store.stage``). Such messages have no reference data, write no e-Box events,
and are never seen by the e-Box API (``selectors`` reads origin "api" for it). An agent's
document may bring more (``DocumentDraft``'s optional fields: further files of the same message,
the sender's name, an expiry, payment data); the e-mail intake gives none of them.
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from coffre.audit.services import Actor, record
from coffre.core import rows
from coffre.mailbox import store
from coffre.mailbox.models import Attachment, Ebox, Folder, Message, Origin
from coffre.mailbox.services import PaymentDraft, payment_of
from coffre.mailbox.translations import LANGUAGES, search_text

PERSONAL_BOX_ACTOR = Actor.system("mailbox.personal_box")


def personal_box(person) -> Ebox:
    """The person's "My documents", created (and audited) the first time it is needed."""
    box = Ebox.objects.filter(owner=person).first()
    if box is not None:
        return box
    try:
        with transaction.atomic():
            box = Ebox.objects.create(owner=person)
            record(PERSONAL_BOX_ACTOR, "personalBox.created", details={"person": person.pk, "box": box.pk})
    except IntegrityError:  # created meanwhile by another request
        box = Ebox.objects.get(owner=person)
    return box


def expiration_of_documents(receipt: datetime) -> datetime:
    """Documents filed outside the API are kept COFFRE_DOCUMENT_RETENTION_YEARS years."""
    return receipt + relativedelta(years=settings.COFFRE_DOCUMENT_RETENTION_YEARS)


@dataclass
class DocumentFile:
    """A further file of a document (its main content is ``DocumentDraft.content``)."""

    content: store.StagedContent
    file_name: str
    media_type: str


@dataclass
class DocumentDraft:
    content: store.StagedContent
    file_name: str
    media_type: str
    subject: str  # the message's subject: the mail's, or the file name
    # What an agent may also bring (coffre.agents): more attachments of the same message, who sent
    # it, when it expires (kept when later than its arrival; else the retention), payment data.
    more_files: list[DocumentFile] = field(default_factory=list)
    sender_name: str = ""
    expires_at: datetime | None = None
    payment: PaymentDraft | None = None


@dataclass
class Filed:
    """What ``file_documents`` did: the messages created, and the documents the space already had
    (by file name, with the message that holds them)."""

    message_ids: list[str] = field(default_factory=list)
    duplicates: list[dict] = field(default_factory=list)
    stored_contents: list[store.StagedContent] = field(default_factory=list)
    skipped_contents: list[store.StagedContent] = field(default_factory=list)


def _already_in_space(box: Ebox, folder: str, sha256: str) -> str | None:
    """The id of a message of the space that holds this content, or None."""
    return (
        Attachment.objects.filter(message__ebox=box, message__folder=folder, blob__sha256=sha256)
        .values_list("message__message_id", flat=True)
        .first()
    )


def file_documents(
    box: Ebox,
    folder: str,
    drafts: list[DocumentDraft],
    *,
    origin: str,
    sender_address: str,
    language: str,
    now: datetime | None = None,
) -> Filed:
    """Inside the caller's transaction: one message per document (its first attachment is the main
    content), except documents whose main content is already in the space (same SHA-256), which
    are listed instead.

    Content already staged (``store.stage``) becomes blobs of the enterprise, or of the person for
    "My documents" (identical content stored once). The caller removes what was not kept
    (``Filed.skipped_contents``, with ``store.abandon``) once its transaction is over.
    """
    if origin == Origin.API:
        raise ValueError("messages of the e-Box API are published with services.publish_message")
    if folder not in box.folders():
        raise ValueError(f"{box} has no folder {folder!r}")
    now = now or timezone.now()
    lang = language if language in LANGUAGES else "fr"
    filed = Filed()
    seen: dict[str, str] = {}
    for draft in drafts:
        digest = draft.content.sha256
        holder = seen.get(digest) or _already_in_space(box, folder, digest)
        if holder is not None:
            filed.duplicates.append({"file_name": draft.file_name, "message_id": holder})
            filed.skipped_contents.extend([draft.content, *(item.content for item in draft.more_files)])
            continue
        files = [DocumentFile(draft.content, draft.file_name, draft.media_type), *draft.more_files]
        texts = {
            f"search_{code}": search_text(
                [draft.subject, *(item.file_name for item in files), sender_address, draft.sender_name]
            )
            for code in LANGUAGES
        }
        expires = draft.expires_at if draft.expires_at and draft.expires_at > now else None
        message = Message(
            message_id=str(uuid.uuid4()),
            ebox_id=box.pk,
            subject={lang: draft.subject},
            receipt_date=now,
            expiration_date=expires or expiration_of_documents(now),
            folder=folder,
            origin=origin,
            sender_address=sender_address,
            sender_name=draft.sender_name[:200],
            attachments_size=sum(item.content.size for item in files),
            created_at=now,
            **texts,
        )
        rows.insert([message])
        rows.insert(
            [
                Attachment(
                    message=message,
                    attachment_id=str(uuid.uuid4()),
                    position=position,
                    file_name=item.file_name,
                    media_type=item.media_type,
                    main_content=position == 0,
                    blob=_adopted(box, item.content),
                )
                for position, item in enumerate(files)
            ]
        )
        if draft.payment is not None:
            payment_of(message, draft.payment).save()
        seen[digest] = message.message_id
        filed.message_ids.append(message.message_id)
        filed.stored_contents.extend(item.content for item in files)
    return filed


def _adopted(box: Ebox, content: store.StagedContent):
    if box.is_personal:
        return store.adopt(None, content, owner_id=box.owner_id)
    return store.adopt(box.enterprise_id, content)


def folder_label(folder: str) -> str:
    return str(Folder(folder).label)
