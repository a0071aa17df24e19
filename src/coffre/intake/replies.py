"""The mails of the intake: to senders (their mail waits, was accepted, was refused, went to an
address they may not use) and to the approvers (a mail waits for their decision). Each is queued
in the outbox (``coffre.outbox.services.queue_mail``) under an idempotency key, in the caller's
transaction, and leaves after it commits.

A sender is told only when all of these hold, so that no reply reaches someone who did not write
the mail and no loop between automatic mailers can start:

- the mail has a usable From address, and its verdict is not ``fail`` (the From domain publishes
  sender authentication and says this mail is not its own: the address is probably forged);
- it is not a bounce (``MAIL FROM:<>``) nor an automatic mail (``Auto-Submitted`` other than
  ``no``, ``Precedence: bulk``, ``list`` or ``junk``);
- the address is not one of Coffre's own (at the intake domain or the bounce domain);
- the address is not blacklisted by the enterprise (checked when the reply is queued);
- the address got fewer than ``REPLIES_PER_HOUR`` replies in the last hour
  (``coffre.core.ratelimit``, shared by every process).

Every mail carries ``Auto-Submitted: auto-replied`` (``auto-generated`` for the approvers'
notices), its ``Content-Language``, and refers to the mail it answers (``In-Reply-To``). The
sender's language is the mail's ``Content-Language`` (of its headers, else of its text part) or
``Accept-Language`` when Coffre speaks it, else the enterprise's (the person's, for "My
documents"). Never logs an address in full.
"""

import logging
import re
from datetime import timedelta

from django.conf import settings
from django.urls import reverse

from coffre.accounts import selectors_firms
from coffre.accounts.models import LANGUAGES
from coffre.core import ratelimit
from coffre.intake import selectors
from coffre.intake.authentication import Status
from coffre.intake.models import Approvers, IntakeMail, PendingMail
from coffre.mailbox.models import Ebox
from coffre.outbox.services import queue_mail

logger = logging.getLogger("coffre.intake")

REPLIES_PER_HOUR = 5
APPROVER_NOTICES_PER_HOUR = 10
WINDOW = timedelta(hours=1)
SPOKEN = frozenset(code for code, _ in LANGUAGES)
AUTOMATIC_PRECEDENCE = frozenset({"bulk", "list", "junk"})
_MESSAGE_ID = re.compile(r"^<[^<>\s]{1,250}>$")


def is_automatic(mail_from: str, auto_submitted: str, precedence: str) -> bool:
    """A bounce or an automatic mail: never answered."""
    if not (mail_from or "").strip().strip("<>").strip():
        return True
    value = (auto_submitted or "").split(";", 1)[0].strip().lower()
    if value and value != "no":
        return True
    return (precedence or "").strip().lower() in AUTOMATIC_PRECEDENCE


def is_own_address(address: str) -> bool:
    """An address of this Coffre's intake or bounce domain."""
    domain = address.rpartition("@")[2].lower()
    own = {settings.COFFRE_INTAKE_DOMAIN, settings.COFFRE_BOUNCE_DOMAIN} - {""}
    return domain in own


def box_language(box: Ebox) -> str:
    return box.owner.language if box.is_personal else box.enterprise.language


def sender_language(languages: tuple[str, ...], fallback: str) -> str:
    return next((code for code in languages if code in SPOKEN), fallback)


def space_context(box: Ebox, folder: str) -> dict:
    return {
        "personal": box.is_personal,
        "purchases": folder == "purchases",
        "enterprise_name": "" if box.is_personal else box.enterprise.name,
    }


def _reference(message_id: str) -> dict:
    return (
        {"In-Reply-To": message_id, "References": message_id} if _MESSAGE_ID.match(message_id or "") else {}
    )


def _short(address: str) -> str:
    return address[:3] + "…"


def _send_to_sender(
    kind: str, *, to: str, key: str, context: dict, language: str, message_id: str, box: Ebox
) -> bool:
    if not box.is_personal and selectors.blacklisted(box.enterprise, to):
        return False
    if not ratelimit.hit(f"intake-reply:{to}", REPLIES_PER_HOUR, WINDOW).allowed:
        logger.info("intake: no %s reply to %s: too many replies this hour", kind, _short(to))
        return False
    queue_mail(
        key=key,
        purpose=f"intake_{kind}",
        to=to,
        prefix=f"intake/mail/sender_{kind}",
        context=context,
        language=language,
        headers={"Auto-Submitted": "auto-replied", "Content-Language": language, **_reference(message_id)},
    )
    return True


class Replies:
    """The replies about one received mail, as the pipeline decides them."""

    def __init__(self, box: Ebox, facts, envelope, verdict):
        self.box, self.facts, self.envelope, self.verdict = box, facts, envelope, verdict
        self.address = selectors.normalized_address(verdict.from_address)

    def may_reply(self) -> bool:
        return bool(
            self.address
            and self.verdict.status != Status.FAIL
            and not is_automatic(self.envelope.mail_from, self.facts.auto_submitted, self.facts.precedence)
            and not is_own_address(self.address)
        )

    def language(self) -> str:
        return sender_language(self.facts.languages, box_language(self.box))

    def _context(self, activity: IntakeMail) -> dict:
        return {
            **space_context(self.box, activity.folder),
            "subject": activity.subject,
            "received_at": activity.received_at,
        }

    def wrong_address(self, activity: IntakeMail) -> bool:
        """My documents: only the account's address can send there."""
        if not self.may_reply():
            return False
        return _send_to_sender(
            "wrong_address",
            to=self.address,
            key=f"intake:wrong-address:{activity.pk}",
            context=self._context(activity),
            language=self.language(),
            message_id=self.facts.message_id,
            box=self.box,
        )

    def pending(self, activity: IntakeMail) -> bool:
        """The mail waits for an approver of the enterprise."""
        if not self.may_reply():
            return False
        context = {
            **self._context(activity),
            "by_collaborators": activity.details.get("approvers") == Approvers.ATTACHED_COLLABORATORS,
        }
        return _send_to_sender(
            "pending",
            to=self.address,
            key=f"intake:pending:{activity.pk}",
            context=context,
            language=self.language(),
            message_id=self.facts.message_id,
            box=self.box,
        )


def tell_decision(kind: str, waiting: list[PendingMail], box: Ebox) -> bool:
    """After an approver's decision about waiting mails of one sender: ``accepted`` or ``refused``
    (one mail per decision, about the mails it concerns)."""
    answerable = [pending for pending in waiting if pending.may_reply and pending.sender_address]
    if not answerable:
        return False
    first = answerable[0]
    context = {
        **space_context(box, first.folder),
        "subjects": [pending.activity.subject for pending in answerable],
        "received_at": first.received_at,
    }
    return _send_to_sender(
        kind,
        to=first.sender_address,
        key=f"intake:{kind}:{first.activity_id}",
        context=context,
        language=first.language,
        message_id=first.message_id_header,
        box=box,
    )


# --- the approvers ---------------------------------------------------------------------------------


def approvers_of(pending: PendingMail) -> list:
    box = pending.ebox
    if pending.approvers == Approvers.OWNER:
        return [box.owner] if box.owner.is_active else []
    if pending.approvers == Approvers.ATTACHED_COLLABORATORS:
        return list(selectors_firms.attached_people(box.enterprise))
    admin = selectors_firms.client_admin_of(box.enterprise)
    return [admin] if admin is not None and admin.is_active else []


def _page_link(pending: PendingMail) -> str:
    base = settings.COFFRE_BASE_URL
    if not base:
        return ""
    if pending.approvers == Approvers.OWNER:
        return base + reverse("intake:my_documents")
    return base + reverse("intake:email_access", args=[pending.ebox.enterprise.cbe])


def notify_approvers(pending: PendingMail) -> int:
    """Tell the people who may decide that a mail waits (a portal notice shows it too); the count
    of mails queued."""
    sent = 0
    for person in approvers_of(pending):
        if not ratelimit.hit(f"intake-approver:{person.pk}", APPROVER_NOTICES_PER_HOUR, WINDOW).allowed:
            continue
        queue_mail(
            key=f"intake:approver:{pending.pk}:{person.pk}",
            purpose="intake_approver",
            to=person.email,
            prefix="intake/mail/approver_pending",
            context={
                **space_context(pending.ebox, pending.folder),
                "sender": pending.sender_address,
                "subject": pending.activity.subject,
                "verdict": pending.activity.verdict_status,
                "link": _page_link(pending),
                "owner": pending.approvers == Approvers.OWNER,
                "days": (pending.expires_at - pending.received_at).days,
            },
            language=person.language,
            headers={"Auto-Submitted": "auto-generated", "Content-Language": person.language},
        )
        sent += 1
    return sent
