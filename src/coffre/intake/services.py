"""Changes of the e-mail intake made by people and tasks: the addresses of the spaces (created when
first shown, regenerated), the approvers' decisions about senders and waiting mails (seed 002),
and the expiry of mails that waited 30 days.

Each change is atomic and writes its audit record in its transaction; the mails it sends are
queued in the same transaction (``coffre.intake.replies``). Who may decide is checked here too
(``DecisionRefused``), whatever the view already checked: the kinds of approver the person is
(``permissions.sender_approver_of``) must include the one the sender's request names.

Decisions about an address (enterprise spaces):

=========  ===============================  ==================================================
decision   from                             effect
=========  ===============================  ==================================================
accept     pending, refused, authorized     authorized; its waiting mails are stored; the
                                            sender is told (accepted)
refuse     pending, authorized              refused; its waiting mails are discarded; the
                                            sender is told (refused) when a mail was waiting
blacklist  pending, authorized, refused     blacklisted; its waiting mails are discarded
                                            without a word; its next mails are dropped
lift       blacklisted                      refused: its next mail waits for approval again
=========  ===============================  ==================================================

A waiting mail without an address to approve (no usable From), and the mails of "My documents"
waiting for their owner, are accepted or discarded one by one (``accept_mail``, ``discard_mail``).
"""

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from coffre.audit.services import Actor, record
from coffre.intake import pipeline, replies, selectors
from coffre.intake.models import (
    Approvers,
    IntakeAddress,
    MailOutcome,
    PendingMail,
    SenderApproval,
    SenderStatus,
)
from coffre.mailbox import store
from coffre.mailbox.models import Ebox

logger = logging.getLogger("coffre.intake")

RANDOM_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # 32 symbols: 5 bits each, no l/o/0/1
RANDOM_LENGTH = 10  # 50 bits
SLUG_LENGTH = 30
EXPIRY_ACTOR = Actor.system("intake.expire_pending_mails")
EXPIRY_BATCH = 500


class DecisionRefused(Exception):
    """The person may not take this decision, or it does not apply to the request as it is."""


# --- addresses ---------------------------------------------------------------------------------------


def _slug_of(box: Ebox) -> str:
    if box.is_personal:
        name = box.owner.full_name or box.owner.email.split("@", 1)[0]
    else:
        name = box.enterprise.name
    slug = slugify(name)[:SLUG_LENGTH].strip("-")
    return slug or "space"


def new_local_part(box: Ebox, folder: str) -> str:
    """``<slug>.<folder>.<random>``: readable, and unguessable by its 50 random bits."""
    random_part = "".join(secrets.choice(RANDOM_ALPHABET) for _ in range(RANDOM_LENGTH))
    return f"{_slug_of(box)}.{folder}.{random_part}"


def address_for(box: Ebox, folder: str, actor: Actor) -> IntakeAddress:
    """The address of the space, created (and audited) the first time it is shown."""
    if folder not in box.folders():
        raise ValueError(f"{box} has no folder {folder!r}")
    address = IntakeAddress.objects.filter(ebox=box, folder=folder).first()
    if address is not None:
        return address
    try:
        with transaction.atomic():
            address = IntakeAddress.objects.create(
                ebox=box, folder=folder, local_part=new_local_part(box, folder)
            )
            record(
                actor,
                "intake.address.created",
                details={"box": box.pk, "folder": folder, "address": selectors.full_address(address)},
            )
    except IntegrityError:  # created meanwhile
        address = IntakeAddress.objects.get(ebox=box, folder=folder)
    return address


def regenerate_address(box: Ebox, folder: str, actor: Actor) -> IntakeAddress:
    """A new random part for the space's address; the old address is unknown from now on."""
    address_for(box, folder, actor)
    with transaction.atomic():
        address = IntakeAddress.objects.select_for_update().get(ebox=box, folder=folder)
        previous = selectors.full_address(address)
        address.local_part = new_local_part(box, folder)
        address.regenerated_at = timezone.now()
        address.save(update_fields=["local_part", "regenerated_at"])
        record(
            actor,
            "intake.address.regenerated",
            details={
                "box": box.pk,
                "folder": folder,
                "previous": previous,
                "address": selectors.full_address(address),
            },
        )
    return address


# --- decisions ------------------------------------------------------------------------------------------


ACCEPT, REFUSE, BLACKLIST, LIFT = "accept", "refuse", "blacklist", "lift"
ALLOWED_FROM = {
    ACCEPT: {SenderStatus.PENDING, SenderStatus.REFUSED, SenderStatus.AUTHORIZED},
    REFUSE: {SenderStatus.PENDING, SenderStatus.AUTHORIZED},
    BLACKLIST: {SenderStatus.PENDING, SenderStatus.AUTHORIZED, SenderStatus.REFUSED},
    LIFT: {SenderStatus.BLACKLISTED},
}
STATUS_AFTER = {
    ACCEPT: SenderStatus.AUTHORIZED,
    REFUSE: SenderStatus.REFUSED,
    BLACKLIST: SenderStatus.BLACKLISTED,
    LIFT: SenderStatus.REFUSED,
}


def decisions_for(approval: SenderApproval) -> list[str]:
    """The decisions that apply to the address as it is (the page offers these)."""
    waiting = getattr(approval, "waiting_count", None)
    found = [decision for decision, sources in ALLOWED_FROM.items() if approval.status in sources]
    if approval.status == SenderStatus.AUTHORIZED and not waiting:
        found.remove(ACCEPT)  # nothing to accept
    return found


def may_decide(kinds, approvers: str, *, person=None, box: Ebox | None = None) -> bool:
    """Whether a person who is these ``kinds`` of approver decides a request for ``approvers``."""
    if approvers == Approvers.OWNER:
        return box is not None and person is not None and box.owner_id == person.pk
    return approvers in {str(kind) for kind in kinds}


@dataclass(frozen=True)
class Decided:
    decision: str
    status: str
    stored: int  # waiting mails stored
    discarded: int  # waiting mails discarded


@dataclass
class _Prepared:
    pending_id: int
    drafts: list


def _prepare(waiting: list[PendingMail]) -> list[_Prepared]:
    """Outside the transaction: the documents of each waiting mail, read back and staged."""
    prepared = []
    for pending in waiting:
        raw = b"".join(store.open_verified(pending.blob))
        facts = pipeline.parse_mail(raw)
        prepared.append(
            _Prepared(pending.pk, pipeline.stage_documents(pipeline.documents_of(raw).documents, facts.subject))
        )
    return prepared


def _staged(prepared: list[_Prepared]) -> list:
    return [draft.content for item in prepared for draft in item.drafts]


def _close(pending: PendingMail, outcome: str, by, now: datetime) -> None:
    """Inside the transaction: the waiting mail's activity gets its outcome; the mail and its
    encrypted copy are removed."""
    activity = pending.activity
    activity.outcome = outcome
    activity.decided_at = now
    activity.details = {**activity.details, "decided_by": by.email if by is not None else None}
    activity.save(update_fields=["outcome", "decided_at", "details"])
    blob_id = pending.blob_id
    pending.delete()
    store.discard_blob(blob_id)


def _store_waiting(box: Ebox, prepared: list[_Prepared], by, now: datetime, kept: list) -> list[PendingMail]:
    """Inside the transaction: the prepared waiting mails still waiting, stored in their space."""
    stored = []
    for item in prepared:
        pending = (
            PendingMail.objects.select_for_update()
            .select_related("activity")
            .filter(pk=item.pending_id)
            .first()
        )
        if pending is None:
            continue  # decided meanwhile
        sender = pending.sender_address or (box.owner.email if box.is_personal else "")
        filed = pipeline.file_mail(box, pending.folder, item.drafts, sender, pending.activity)
        kept.extend(filed.stored_contents)
        stored.append(pending)
        _close(pending, MailOutcome.ACCEPTED, by, now)
    return stored


def _with_staged(prepared: list[_Prepared], change):
    """Run ``change(kept)`` in a transaction; remove the staged content it did not keep."""
    staged, kept = _staged(prepared), []
    try:
        with transaction.atomic():
            result = change(kept)
    except BaseException:
        store.abandon(staged)
        raise
    store.abandon([content for content in staged if content not in kept])
    return result


def decide_sender(approval: SenderApproval, decision: str, *, by, kinds, actor: Actor) -> Decided:
    """An approver's decision about an address (see the module's table)."""
    if decision not in ALLOWED_FROM:
        raise ValueError(f"unknown decision {decision!r}")
    box = Ebox.objects.select_related("enterprise").get(enterprise_id=approval.enterprise_id)
    waiting = list(
        PendingMail.objects.filter(approval=approval).select_related("blob").order_by("received_at", "pk")
    )
    prepared = _prepare(waiting) if decision == ACCEPT else []

    def change(kept: list) -> Decided:
        current = SenderApproval.objects.select_for_update().get(pk=approval.pk)
        if not may_decide(kinds, current.approvers):
            raise DecisionRefused("not one of the approvers of this request")
        if current.status not in ALLOWED_FROM[decision]:
            raise DecisionRefused(f"cannot {decision} an address that is {current.status}")
        now = timezone.now()
        stored, discarded = [], []
        if decision == ACCEPT:
            stored = _store_waiting(box, prepared, by, now, kept)
        elif decision in (REFUSE, BLACKLIST):
            for pending in (
                PendingMail.objects.select_for_update().select_related("activity").filter(approval=current)
            ):
                discarded.append(pending)
                _close(pending, MailOutcome.DISCARDED, by, now)
        current.status = STATUS_AFTER[decision]
        current.decided_at, current.decided_by = now, by
        current.save(update_fields=["status", "decided_at", "decided_by"])
        if decision == ACCEPT:
            replies.tell_decision("accepted", stored, box)
        elif decision == REFUSE:
            replies.tell_decision("refused", discarded, box)
        record(
            actor,
            f"intake.sender.{decision}",
            details={
                "enterprise": box.enterprise.cbe,
                "approval": current.pk,
                "status": current.status,
                "stored": [pending.activity_id for pending in stored],
                "discarded": [pending.activity_id for pending in discarded],
            },
        )
        return Decided(decision, current.status, len(stored), len(discarded))

    return _with_staged(prepared, change)


def accept_mail(pending: PendingMail, *, by, kinds=frozenset(), actor: Actor) -> Decided:
    """Store one waiting mail (the owner's one-click approval in "My documents", or an
    enterprise's mail without an address to approve)."""
    box = Ebox.objects.select_related("enterprise", "owner").get(pk=pending.ebox_id)
    _check_mail_decision(pending, box, by, kinds)
    prepared = _prepare([pending])

    def change(kept: list) -> Decided:
        stored = _store_waiting(box, prepared, by, timezone.now(), kept)
        if not stored:
            raise DecisionRefused("this mail is no longer waiting")
        if not box.is_personal:
            replies.tell_decision("accepted", stored, box)
        record(actor, "intake.mail.accept", details={"box": box.pk, "activity": pending.activity_id})
        return Decided(ACCEPT, "", 1, 0)

    return _with_staged(prepared, change)


def discard_mail(pending: PendingMail, *, by, kinds=frozenset(), actor: Actor) -> Decided:
    """Discard one waiting mail (see ``accept_mail``); an enterprise's sender is told when possible."""
    box = Ebox.objects.select_related("enterprise", "owner").get(pk=pending.ebox_id)
    _check_mail_decision(pending, box, by, kinds)
    with transaction.atomic():
        current = (
            PendingMail.objects.select_for_update().select_related("activity").filter(pk=pending.pk).first()
        )
        if current is None:
            raise DecisionRefused("this mail is no longer waiting")
        _close(current, MailOutcome.DISCARDED, by, timezone.now())
        if not box.is_personal:
            replies.tell_decision("refused", [current], box)
        record(actor, "intake.mail.discard", details={"box": box.pk, "activity": current.activity_id})
    return Decided(REFUSE, "", 0, 1)


def _check_mail_decision(pending: PendingMail, box: Ebox, by, kinds) -> None:
    if not may_decide(kinds, pending.approvers, person=by, box=box):
        raise DecisionRefused("not one of the approvers of this mail")
    if pending.approval_id is not None:
        raise DecisionRefused("decide about the sender's address instead")


# --- expiry ------------------------------------------------------------------------------------------


def expire_pending_mails(now: datetime | None = None, limit: int = EXPIRY_BATCH) -> int:
    """Mails waiting 30 days without a decision: deleted with their encrypted copy, their activity
    marked expired. Periodic (settings.COFFRE_PERIODIC_TASKS); the count removed."""
    now = now or timezone.now()
    removed = 0
    for pending_id in selectors.expired_pending(now, limit):
        with transaction.atomic():
            pending = (
                PendingMail.objects.select_for_update()
                .select_related("activity")
                .filter(pk=pending_id, expires_at__lte=now)
                .first()
            )
            if pending is None:
                continue
            _close(pending, MailOutcome.EXPIRED, None, now)
            record(EXPIRY_ACTOR, "intake.mail.expired", details={"activity": pending.activity_id})
            removed += 1
    return removed
