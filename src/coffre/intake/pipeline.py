"""The intake of one received mail: parse -> authenticate the sender -> decide -> store -> tell.

``receive(raw, envelope) -> Outcome`` is the one entry point of the SMTP route
(``coffre.smtpd.routes``) and of the IMAP poller. For each recipient that is the address of a
space (``IntakeAddress``), in one transaction per space: one activity row (``IntakeMail``), the
decision of ``coffre.intake.rules`` applied (documents stored, the mail kept encrypted until a
decision, refused, or dropped), an audit record, and the mails to the sender and to the approvers
queued (``coffre.intake.replies``). The sender is authenticated once per mail.

Idempotent: a mail (its Message-ID, else its SHA-256) already received in a space is not taken
again; the earlier outcome is returned. A ``temperror`` verdict received over SMTP is deferred
(nothing recorded: the sending server tries again).

The steps, each a function with one job: ``parse_mail`` (the headers the intake needs),
``authentication.authenticate``, ``documents_of`` (the documents of a mail), ``rules``, and the
applying functions below. Must never: store a document of a mail that was not accepted, reply to
a bounce or to an automatic mail, or log a mail's content.
"""

import datetime as dt
import hashlib
import logging
import re
from dataclasses import dataclass
from email import policy
from email.header import decode_header, make_header
from email.parser import BytesHeaderParser

from django.db import IntegrityError, transaction
from django.utils import timezone

from coffre.accounts.selectors_firms import SenderStanding
from coffre.audit.services import Actor, record
from coffre.intake import mime, replies, rules, selectors
from coffre.intake.authentication import Status, Verdict, authenticate
from coffre.intake.models import (
    Approvers,
    IntakeAddress,
    IntakeMail,
    MailOutcome,
    PendingMail,
    SenderApproval,
    SenderStatus,
)
from coffre.mailbox import services_spaces, store
from coffre.mailbox.models import Ebox, Origin

logger = logging.getLogger("coffre.intake")

PENDING_LIFETIME_DAYS = 30
MAX_SUBJECT = 500


@dataclass(frozen=True)
class Envelope:
    """How the mail arrived: the SMTP envelope (or what the IMAP poller knows of it)."""

    mail_from: str  # "" for MAIL FROM:<>
    recipients: tuple[str, ...]
    client_ip: str  # an IP address (the SMTP client's)
    helo: str
    received_via: str = "smtp"  # "smtp" (a temperror can be deferred) or "imap" (it cannot)

    @property
    def deferrable(self) -> bool:
        return self.received_via == "smtp"


class Result:
    """What became of the mail for one recipient (``RecipientOutcome.result``)."""

    STORED = "stored"
    PENDING = "pending"
    REFUSED = "refused"  # My documents: only the account's address can send there
    DROPPED = "dropped"  # a blacklisted sender
    DEFERRED = "deferred"  # temperror over SMTP: try again later
    UNKNOWN = "unknown"  # not the address of a space


_RESULT_OF_OUTCOME = {
    MailOutcome.STORED: Result.STORED,
    MailOutcome.ACCEPTED: Result.STORED,
    MailOutcome.PENDING: Result.PENDING,
    MailOutcome.DISCARDED: Result.PENDING,  # it was waiting when first received
    MailOutcome.EXPIRED: Result.PENDING,
    MailOutcome.REFUSED: Result.REFUSED,
    MailOutcome.BLACKLISTED: Result.DROPPED,
}


@dataclass(frozen=True)
class RecipientOutcome:
    recipient: str
    result: str
    activity_id: int | None = None
    message_ids: tuple[str, ...] = ()
    duplicate: bool = False  # this mail had already been received in this space


@dataclass(frozen=True)
class Outcome:
    """What ``receive`` did with a mail, per recipient."""

    verdict: Verdict | None
    recipients: tuple[RecipientOutcome, ...] = ()

    def results(self) -> set[str]:
        return {item.result for item in self.recipients}

    @property
    def deferred(self) -> bool:
        return Result.DEFERRED in self.results()

    @property
    def refused(self) -> bool:
        """Every recipient refused the mail (an SMTP server answers 550)."""
        results = self.results()
        return bool(results) and results <= {Result.REFUSED, Result.UNKNOWN} and Result.REFUSED in results


# --- parse --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MailFacts:
    """The headers the intake needs, read without trusting them."""

    message_id: str
    subject: str
    from_header: str
    auto_submitted: str
    precedence: str
    languages: tuple[str, ...]  # from Content-Language and Accept-Language, in order
    sha256: str

    @property
    def key(self) -> str:
        """What makes the mail the same mail when delivered again."""
        return f"mid:{self.message_id}"[:300] if self.message_id else f"sha256:{self.sha256}"


def _decoded(value) -> str:
    if value is None:
        return ""
    try:
        return str(make_header(decode_header(str(value))))
    except Exception:  # noqa: BLE001 - a broken encoded word: the text as it is
        return str(value)


def _one_line(text: str, limit: int) -> str:
    return " ".join(text.split())[:limit]


_LANGUAGE = re.compile(r"^\s*([a-zA-Z]{2})(?:[-_][a-zA-Z0-9]+)*\s*(?:;\s*q\s*=\s*([0-9.]+))?\s*$")


def languages_of(*headers: str) -> tuple[str, ...]:
    """Primary language subtags of Content-Language / Accept-Language values, best first."""
    found: list[tuple[float, int, str]] = []
    position = 0
    for header in headers:
        for item in (header or "").split(","):
            match = _LANGUAGE.match(item)
            if not match:
                continue
            try:
                weight = float(match.group(2)) if match.group(2) else 1.0
            except ValueError:
                weight = 0.0
            found.append((-weight, position, match.group(1).lower()))
            position += 1
    return tuple(dict.fromkeys(code for _, _, code in sorted(found)))


def _languages_of_parts(raw: bytes) -> tuple[str, ...]:
    """The Content-Language of the first part that has one (mail clients put it on the text): a
    scan of the lines, not a parse of the whole mail (only the reply's language depends on it)."""
    lowered, start = raw.lower(), 0
    while (at := lowered.find(b"content-language:", start)) >= 0:
        start = at + 17
        if at == 0 or raw[at - 1 : at] in (b"\n", b"\r"):
            end = min(found for found in (raw.find(b"\n", start), len(raw)) if found >= 0)
            languages = languages_of(raw[start:end].strip().decode("ascii", "replace"))
            if languages:
                return languages
    return ()


def _header_block(raw: bytes) -> bytes:
    """The top-level headers of a mail (its bytes up to the first empty line)."""
    ends = [end for end in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if end >= 0]
    return raw[: min(ends) + 2] if ends else raw


def parse_mail(raw: bytes) -> MailFacts:
    """The headers the intake needs (the From address is sender authentication's business)."""
    headers = BytesHeaderParser(policy=policy.compat32).parsebytes(_header_block(raw))
    message_id = _one_line(str(headers.get("Message-ID", "") or ""), 300).strip()
    languages = languages_of(
        str(headers.get("Content-Language", "") or ""), str(headers.get("Accept-Language", "") or "")
    ) or _languages_of_parts(raw)
    return MailFacts(
        message_id=message_id,
        subject=_one_line(_decoded(headers.get("Subject")), MAX_SUBJECT),
        from_header=_one_line(_decoded(headers.get("From")), 300),
        auto_submitted=_one_line(str(headers.get("Auto-Submitted", "") or ""), 100).lower(),
        precedence=_one_line(str(headers.get("Precedence", "") or ""), 100).lower(),
        languages=languages,
        sha256=hashlib.sha256(raw).hexdigest(),
    )


# --- the documents of a mail ---------------------------------------------------------------------


@dataclass(frozen=True)
class Document:
    file_name: str
    media_type: str
    content: bytes


@dataclass(frozen=True)
class MailDocuments:
    documents: tuple[Document, ...]
    refused: tuple[dict, ...]  # {"file": the sender's name for it, "code": why} of each file not taken


def documents_of(raw: bytes) -> MailDocuments:
    """The documents a mail brings, as ``coffre.intake.mime.extract`` decides (docs/intake-documents.md):
    its attachments and those of forwarded mails, typed by content, or its body; executables,
    unsafe archives and tiny inline images are left out, and what was refused is named (for the
    activity: the code of ``mime.Problem``, never the sender's wording)."""
    extraction = mime.extract(raw)
    return MailDocuments(
        tuple(Document(item.filename, item.media_type, item.content) for item in extraction.documents),
        tuple({"file": problem.filename, "code": problem.code} for problem in extraction.refused),
    )


# --- receive -------------------------------------------------------------------------------------


def intake_actor(envelope: Envelope) -> Actor:
    return Actor(kind="intake", name=f"{envelope.received_via} {envelope.client_ip}"[:100])


def receive(raw: bytes, envelope: Envelope) -> Outcome:
    """Take a received mail into the spaces its recipients name (see the module's docstring)."""
    facts = parse_mail(raw)
    spaces: list[tuple[str, IntakeAddress | None]] = [
        (recipient, selectors.address_named(recipient)) for recipient in dict.fromkeys(envelope.recipients)
    ]
    known = [(recipient, address) for recipient, address in spaces if address is not None]
    unknown = [
        RecipientOutcome(recipient, Result.UNKNOWN) for recipient, address in spaces if address is None
    ]
    if not known:
        return Outcome(None, tuple(unknown))
    verdict = authenticate(
        raw, mail_from=envelope.mail_from, client_ip=envelope.client_ip, helo=envelope.helo
    )
    if envelope.deferrable and verdict.status == Status.TEMPERROR:
        logger.info(
            "intake: mail from %s deferred: sender authentication got no DNS answer", envelope.client_ip
        )
        return Outcome(
            verdict, tuple(RecipientOutcome(r, Result.DEFERRED) for r, _ in known) + tuple(unknown)
        )
    documents: MailDocuments | None = None
    results = []
    for recipient, address in known:
        earlier = selectors.activity_of(address.ebox_id, address.folder, facts.key)
        if earlier is not None:
            results.append(_repeated(recipient, earlier))
            continue
        if documents is None:
            documents = documents_of(raw)
        results.append(_take(raw, envelope, facts, verdict, recipient, address, documents))
    return Outcome(verdict, tuple(results) + tuple(unknown))


def _repeated(recipient: str, earlier: IntakeMail) -> RecipientOutcome:
    return RecipientOutcome(
        recipient,
        _RESULT_OF_OUTCOME.get(earlier.outcome, Result.STORED),
        earlier.pk,
        tuple(earlier.details.get("stored", [])),
        duplicate=True,
    )


def _standing(box: Ebox, verdict: Verdict) -> SenderStanding | None:
    """What the From address is to the box's enterprise (None for a personal box or no sender)."""
    sender = selectors.normalized_address(verdict.from_address)
    return selectors.sender_standing(sender, box.enterprise) if sender and not box.is_personal else None


def _ruling(
    box: Ebox, verdict: Verdict, envelope: Envelope, standing: SenderStanding | None, *, lock: bool = False
) -> tuple[rules.Ruling, SenderApproval | None]:
    sender = selectors.normalized_address(verdict.from_address)
    if box.is_personal:
        owner = selectors.normalized_address(box.owner.email)
        ruling = rules.for_personal_box(verdict.status, sender, owner or "", deferrable=envelope.deferrable)
        return ruling, None
    approval = selectors.approval_of(box.enterprise, sender, lock=lock) if sender else None
    facts = rules.SenderFacts(
        status=approval.status if approval else None,
        holds_role=bool(standing and standing.holds_role),
        collaborator=bool(standing and standing.collaborator),
        favourite=bool(standing and standing.favourite),
    )
    return rules.for_enterprise(verdict.status, sender, facts, deferrable=envelope.deferrable), approval


def stage_documents(documents: tuple[Document, ...], subject: str) -> list[services_spaces.DocumentDraft]:
    drafts = []
    for document in documents:
        content = store.write_content([document.content])
        drafts.append(
            services_spaces.DocumentDraft(
                content, document.file_name, document.media_type, subject or document.file_name
            )
        )
    store.stage([draft.content for draft in drafts])
    return drafts


def _stage_raw(raw: bytes) -> store.StagedContent:
    content = store.write_content([raw])
    store.stage([content])
    return content


def _take(
    raw: bytes,
    envelope: Envelope,
    facts: MailFacts,
    verdict: Verdict,
    recipient: str,
    address: IntakeAddress,
    documents: MailDocuments,
) -> RecipientOutcome:
    """Decide and apply for one space; the decision is taken again inside the transaction (an
    approver may have decided meanwhile), and what was staged for another decision is removed."""
    box = Ebox.objects.select_related("enterprise", "owner").get(pk=address.ebox_id)
    # The standing (roles, firms, favourites) is read once; the approval, which an approver may
    # change meanwhile, again under lock inside the transaction.
    standing = _standing(box, verdict)
    ruling, _ = _ruling(box, verdict, envelope, standing)
    for _attempt in range(3):
        drafts = stage_documents(documents.documents, facts.subject) if ruling.decision == rules.Decision.STORE else []
        raw_content = _stage_raw(raw) if ruling.decision == rules.Decision.PENDING else None
        staged = [draft.content for draft in drafts] + ([raw_content] if raw_content else [])
        kept: list[store.StagedContent] = []
        try:
            with transaction.atomic():
                current, approval = _ruling(box, verdict, envelope, standing, lock=True)
                changed = current.decision != ruling.decision
                ruling = current
                if changed:
                    raise _DecisionChanged()
                activity = _activity(box, address, envelope, facts, verdict, ruling, documents)
                outcome = _apply(
                    recipient,
                    box,
                    address,
                    facts,
                    envelope,
                    verdict,
                    ruling,
                    approval,
                    activity,
                    drafts,
                    raw_content,
                    kept,
                )
                record(
                    intake_actor(envelope),
                    "intake.mail.received",
                    details={
                        "activity": activity.pk,
                        "space": _space_name(box, address.folder),
                        "outcome": activity.outcome,
                        "rule": str(ruling.rule),
                        "verdict": str(verdict.status),
                        "from_sha256": _sha(selectors.normalized_address(verdict.from_address) or ""),
                        "stored": activity.details.get("stored", []),
                        "duplicates": len(activity.details.get("duplicates", [])),
                    },
                )
        except _DecisionChanged:
            store.abandon(staged)
            continue
        except IntegrityError:
            store.abandon(staged)
            # The same mail, received meanwhile in this space through another connection.
            earlier = selectors.activity_of(address.ebox_id, address.folder, facts.key)
            if earlier is None:
                raise
            return _repeated(recipient, earlier)
        except BaseException:
            store.abandon(staged)
            raise
        store.abandon([content for content in staged if content not in kept])
        return outcome
    raise RuntimeError("the decision kept changing while the mail was taken in")


class _DecisionChanged(Exception):
    pass


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _space_name(box: Ebox, folder: str) -> str:
    return f"person {box.owner_id} {folder}" if box.is_personal else f"{box.enterprise.cbe} {folder}"


_OUTCOME_OF = {
    rules.Decision.STORE: MailOutcome.STORED,
    rules.Decision.PENDING: MailOutcome.PENDING,
    rules.Decision.REFUSE: MailOutcome.REFUSED,
    rules.Decision.DROP: MailOutcome.BLACKLISTED,
}


def _activity(
    box: Ebox,
    address: IntakeAddress,
    envelope: Envelope,
    facts: MailFacts,
    verdict: Verdict,
    ruling: rules.Ruling,
    documents: MailDocuments,
) -> IntakeMail:
    # A mail already taken into this space breaks the unique (space, mail_key): ``_take`` answers
    # with the earlier outcome.
    return IntakeMail.objects.create(
        ebox=box,
        folder=address.folder,
        received_via=envelope.received_via[:5],
        mail_key=facts.key,
        from_address=(selectors.normalized_address(verdict.from_address) or "")[:254],
        from_header=facts.from_header,
        envelope_from=(envelope.mail_from or "")[:254],
        subject=facts.subject,
        attachments=[document.file_name for document in documents.documents],
        verdict=verdict.as_dict(),
        verdict_status=str(verdict.status),
        rule=str(ruling.rule),
        outcome=_OUTCOME_OF[ruling.decision],
        details={
            **({"approvers": ruling.approver} if ruling.approver else {}),
            **({"refused": list(documents.refused)} if documents.refused else {}),
        },
    )


def _apply(
    recipient, box, address, facts, envelope, verdict, ruling, approval, activity, drafts, raw_content, kept
) -> RecipientOutcome:
    """Inside the transaction: what the ruling says, for one space."""
    sender = selectors.normalized_address(verdict.from_address)
    tell = replies.Replies(box, facts, envelope, verdict)
    if approval is not None:
        SenderApproval.objects.filter(pk=approval.pk).update(last_mail_at=activity.received_at)
    if ruling.decision == rules.Decision.STORE:
        filed = file_mail(box, address.folder, drafts, sender or "", activity)
        kept.extend(filed.stored_contents)
        return RecipientOutcome(recipient, Result.STORED, activity.pk, tuple(filed.message_ids))
    if ruling.decision == rules.Decision.DROP:
        return RecipientOutcome(recipient, Result.DROPPED, activity.pk)
    if ruling.decision == rules.Decision.REFUSE:
        tell.wrong_address(activity)
        return RecipientOutcome(recipient, Result.REFUSED, activity.pk)
    # PENDING: the raw mail, encrypted, until a decision or 30 days.
    now = timezone.now()
    if sender and not box.is_personal:
        approval = _note_request(box, sender, ruling.approver, approval, now)
    blob = (
        store.adopt(None, raw_content, owner_id=box.owner_id)
        if box.is_personal
        else store.adopt(box.enterprise_id, raw_content)
    )
    kept.append(raw_content)
    pending = PendingMail.objects.create(
        activity=activity,
        ebox=box,
        folder=address.folder,
        approval=approval,
        approvers=Approvers(str(ruling.approver)),
        sender_address=sender or "",
        blob=blob,
        received_at=now,
        expires_at=now + dt.timedelta(days=PENDING_LIFETIME_DAYS),
        may_reply=tell.may_reply(),
        language=tell.language(),
        message_id_header=facts.message_id,
    )
    if not box.is_personal:
        tell.pending(activity)
    replies.notify_approvers(pending)
    return RecipientOutcome(recipient, Result.PENDING, activity.pk)


def _note_request(box: Ebox, sender: str, approver, approval: SenderApproval | None, now) -> SenderApproval:
    """The address's record: a new request (pending) unless it is authorized (an unauthenticated
    mail of an authorized address waits alone, the address stays authorized)."""
    if approval is None:
        return SenderApproval.objects.create(
            enterprise=box.enterprise,
            address=sender,
            status=SenderStatus.PENDING,
            approvers=str(approver),
            created_at=now,
            last_mail_at=now,
        )
    changes = {"approvers": str(approver), "last_mail_at": now}
    if approval.status == SenderStatus.REFUSED:
        changes["status"] = SenderStatus.PENDING
    SenderApproval.objects.filter(pk=approval.pk).update(**changes)
    approval.refresh_from_db()
    return approval


def file_mail(box: Ebox, folder: str, drafts, sender: str, activity: IntakeMail) -> services_spaces.Filed:
    """Inside the caller's transaction: the documents of a mail stored in its space, and what was
    stored (or already there) noted in its activity row."""
    language = box.owner.language if box.is_personal else box.enterprise.language
    filed = services_spaces.file_documents(
        box, folder, drafts, origin=Origin.EMAIL, sender_address=sender, language=language
    )
    activity.details = {
        **activity.details,
        "stored": filed.message_ids,
        "duplicates": filed.duplicates,
    }
    activity.save(update_fields=["details"])
    return filed
