"""One downloaded document of an agent into its connection's space, in one transaction.

``file_fetched`` first seals and stages the files (``coffre.mailbox.store``: no database write),
then in ONE transaction, holding the connection's claim (its row locked):

1. files the document (``services_spaces.file_documents``, origin "agent": a main content the
   space already holds is not stored again; the existing message is named instead);
2. records the ``RemoteItem`` (connection, provider's id) -> message;
3. moves the connection's cursor to the document's, and renews the claim's lease;
4. writes the audit record, and for an enterprise's box the ``newDocument`` event that the
   instant alerts and the nightly digest count (``in_feed`` false: never in the e-Box event API).

A crash before the commit leaves staged files only (removed here, or found later by the orphan
sweep) and the cursor before the document: the next sync takes it again. After the commit, the
item is known and the cursor past it. So a sync that dies half way resumes after its last
committed document, and nothing is ever stored twice.
"""

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from coffre.agents import scheduling
from coffre.agents.models import Connection, RemoteItem
from coffre.agents.sdk import Agent, FetchedDocument, PaymentFacts, RemoteDocument, RemoteFile
from coffre.audit.services import Actor, record
from coffre.events import services as events
from coffre.events.services import BRUSSELS
from coffre.intake import filetypes, mime
from coffre.mailbox import services_spaces, store
from coffre.mailbox.models import Ebox, Message, Origin
from coffre.mailbox.services import PaymentDraft

ACTOR = Actor.system("agents.sync")
MAX_SUBJECT = 500


class ClaimLost(Exception):
    """The connection is no longer this worker's (removed, or its lease lapsed and another took it)."""


@dataclass(frozen=True)
class Taken:
    message_id: str
    new: bool  # False: the space already held its main content


def payment_draft(payment: PaymentFacts | None, remote_id: str) -> PaymentDraft | None:
    """The message's payment data, when the agent gave enough for it (amount, due date, IBAN)."""
    if payment is None or payment.amount is None or payment.due_date is None or not payment.iban:
        return None
    due = dt.datetime.combine(payment.due_date, dt.time(), tzinfo=BRUSSELS)
    return PaymentDraft(
        amount=payment.amount,
        vat_amount=payment.vat_amount if payment.vat_amount is not None else Decimal(0),
        currency=(payment.currency or "EUR")[:3],
        due_date=due,
        iban=payment.iban.replace(" ", "")[:34],
        bic=payment.bic[:11],
        reference=payment.reference or None,
        payment_data_id=remote_id[:100],
    )


def _json(value) -> object:
    """``value`` as JSON keeps it (dates and amounts as text)."""
    return json.loads(json.dumps(value, default=str))


def facts_of(remote: RemoteDocument, fetched: FetchedDocument) -> dict:
    """What the message does not keep, kept with the item."""
    payment = fetched.payment
    facts = {
        "title": remote.title,
        "issued_on": remote.issued_on,
        "amount": remote.amount,
        "currency": remote.currency,
        "message_type": fetched.message_type,
        "sender_id": fetched.sender_id,
        "issued_at": fetched.issued_at,
        "beneficiary": payment.beneficiary if payment else "",
        "direct_debit": payment.direct_debit if payment else False,
        "listed": remote.details,
        "details": fetched.details,
    }
    return _json({key: value for key, value in facts.items() if value not in ("", None, {}, False)})


@dataclass(frozen=True)
class Screened:
    """The files of a downloaded document that may be stored (typed by their content, as the
    e-mail intake types attachments), and those refused: ``{"file", "code", "reason"}``."""

    files: tuple[RemoteFile, ...]
    refused: tuple[dict, ...]


def screen(fetched: FetchedDocument) -> Screened:
    """Programs, scripts, macros, active content, unsafe archives and files larger than
    ``COFFRE_INTAKE_MAX_FILE_SIZE`` are refused, whatever the provider calls them
    (``coffre.intake.filetypes``: the same rules as for a mail's attachments)."""
    limits = mime.Limits.from_settings()
    kept, refused = [], []
    for item in fetched.files:
        if len(item.content) > limits.max_file_size:
            refused.append({"file": item.file_name, "code": "too-large", "reason": "larger than accepted"})
            continue
        verdict = filetypes.classify(item.content, item.file_name, item.media_type, limits)
        if not verdict.accepted:
            refused.append({"file": item.file_name, "code": verdict.code, "reason": verdict.reason})
            continue
        kept.append(RemoteFile(item.file_name, verdict.file_type.media_type, item.content))
    return Screened(tuple(kept), tuple(refused))


def refuse_document(connection_id: int, token: str, remote: RemoteDocument, refused: tuple[dict, ...]) -> None:
    """None of a document's files may be stored: the cursor moves past it, and the refusal is
    audited (the provider will list it again, the engine will refuse it again: no retry loop)."""
    with transaction.atomic():
        _advance(connection_id, token, remote.cursor, stored=0)
        record(
            ACTOR,
            "agents.document.refused",
            details={"connection": connection_id, "remoteId": remote.remote_id[:200], "refused": list(refused)},
        )


def stage(
    fetched: FetchedDocument, subject: str, sender_name: str, remote_id: str
) -> services_spaces.DocumentDraft:
    """Seal and stage the document's files (no database write)."""
    contents = []
    try:
        for item in fetched.files:
            contents.append(store.write_content([item.content]))
        store.stage(contents)
    except BaseException:
        store.abandon(contents)
        raise
    main, *more = fetched.files
    return services_spaces.DocumentDraft(
        contents[0],
        main.file_name,
        main.media_type,
        subject,
        more_files=[
            services_spaces.DocumentFile(content, item.file_name, item.media_type)
            for content, item in zip(contents[1:], more, strict=True)
        ],
        sender_name=sender_name,
        expires_at=fetched.expires_at,
        payment=payment_draft(fetched.payment, remote_id),
    )


def _language(box: Ebox) -> str:
    return box.owner.language if box.is_personal else box.enterprise.language


def file_fetched(
    connection: Connection, token: str, agent: Agent, remote: RemoteDocument, fetched: FetchedDocument
) -> Taken | None:
    """File one document (see the module's doc); None when the connection already had it."""
    subject = (fetched.subject or remote.title or fetched.files[0].file_name)[:MAX_SUBJECT]
    draft = stage(fetched, subject, fetched.sender_name or agent.provider, remote.remote_id)
    staged = [draft.content, *(item.content for item in draft.more_files)]
    try:
        with transaction.atomic():
            taken, skipped = _commit(connection, token, agent, remote, fetched, draft)
    except BaseException:
        store.abandon(staged)
        raise
    store.abandon(skipped)
    return taken


def _commit(connection, token, agent, remote, fetched, draft) -> tuple[Taken | None, list]:
    locked = (
        Connection.objects.select_for_update(of=("self",)).filter(pk=connection.pk, claimed_by=token).first()
    )
    if locked is None:
        raise ClaimLost()
    if RemoteItem.objects.filter(connection_id=locked.pk, remote_id=remote.remote_id).exists():
        _advance(locked.pk, token, remote.cursor, stored=0)
        return None, [draft.content, *(item.content for item in draft.more_files)]
    now = timezone.now()
    box = Ebox.objects.select_related("enterprise", "owner").get(pk=locked.box_id)
    locked.box = box
    filed = services_spaces.file_documents(
        box, locked.folder, [draft], origin=Origin.AGENT, sender_address="", language=_language(box), now=now
    )
    new = bool(filed.message_ids)
    message_id = filed.message_ids[0] if new else filed.duplicates[0]["message_id"]
    message = Message.objects.get(ebox=box, message_id=message_id)
    RemoteItem.objects.create(
        connection_id=locked.pk,
        remote_id=remote.remote_id,
        sha256=draft.content.sha256,
        message=message,
        duplicate=not new,
        facts=facts_of(remote, fetched),
        created_at=now,
    )
    _advance(locked.pk, token, remote.cursor, stored=1 if new else 0)
    record(
        ACTOR,
        "agents.document.filed",
        details={
            "connection": locked.pk,
            "agent": locked.agent_id,
            "space": locked.in_space,
            "remoteId": remote.remote_id[:200],
            "message": message_id,
            "files": 1 + len(draft.more_files),
            "duplicate": not new,
        },
    )
    if new and not box.is_personal:
        # Last statement: the event sequence lock is held until commit (coffre.events.services).
        events.new_documents([(message, events.Facts(box.enterprise_id, "", ""))], now, in_feed=False)
    return Taken(message_id, new), filed.skipped_contents


def _advance(connection_id: int, token: str, cursor: str, *, stored: int) -> None:
    moved = Connection.objects.filter(pk=connection_id, claimed_by=token).update(
        cursor=cursor, documents=F("documents") + stored, claim_expires_at=timezone.now() + scheduling.lease()
    )
    if not moved:
        raise ClaimLost()


def advance_known(connection_id: int, token: str, cursor: str) -> None:
    """A document listed again that the connection already has: only the cursor moves past it."""
    _advance(connection_id, token, cursor, stored=0)
