"""Reads of the e-mail intake: which space an address names, what an address is to an enterprise,
and what the "E-mail access" and "My documents" pages list (sender addresses, waiting mails, the
activity in keyset pages), and what waits for a person's decision (the portal's notice).

Every read of the pages starts from one enterprise's box or one person's box: views call these
after the permission check, never the models.
"""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Max, Q, QuerySet

from coffre.accounts import selectors_firms
from coffre.accounts.models import Enterprise
from coffre.intake.models import (
    Approvers,
    IntakeAddress,
    IntakeMail,
    PendingMail,
    SenderApproval,
    SenderStatus,
)
from coffre.intake.rules import Rule
from coffre.intake.sender_address import normalize_domain
from coffre.mailbox.models import Ebox
from coffre.mailbox.selectors_web import Cursor

ACTIVITY_PAGE = 50
DIRECT_RULES = (Rule.INSIDER, Rule.FAVOURITE)


def normalized_address(address: str | None) -> str | None:
    """An e-mail address as the intake compares and keeps it: lower case, the domain in IDNA
    A-labels; None when it is not an address."""
    if not address:
        return None
    local, at, domain = address.strip().strip("<>").rpartition("@")
    ascii_domain = normalize_domain(domain) if at else None
    if not local or ascii_domain is None:
        return None
    return f"{local.lower()}@{ascii_domain}"


def intake_domain() -> str:
    return settings.COFFRE_INTAKE_DOMAIN


def is_at_intake_domain(address: str) -> bool:
    """Whether the address is at the intake domain (no database: the SMTP server's RCPT TO)."""
    domain = intake_domain()
    _, at, address_domain = (address or "").strip().strip("<>").rpartition("@")
    return bool(domain) and bool(at) and address_domain.lower().rstrip(".") == domain


def address_named(recipient: str) -> IntakeAddress | None:
    """The space whose address ``recipient`` is, or None (another domain, an unknown or old address)."""
    if not is_at_intake_domain(recipient):
        return None
    local = recipient.strip().strip("<>").rpartition("@")[0].lower()
    return IntakeAddress.objects.filter(local_part=local).first()


def full_address(address: IntakeAddress) -> str:
    return f"{address.local_part}@{intake_domain()}"


def activity_of(ebox_id: int, folder: str, mail_key: str) -> IntakeMail | None:
    return IntakeMail.objects.filter(ebox_id=ebox_id, folder=folder, mail_key=mail_key).first()


def approval_of(enterprise: Enterprise, address: str, *, lock: bool = False) -> SenderApproval | None:
    approvals = SenderApproval.objects.filter(enterprise=enterprise, address=address)
    if lock:
        approvals = approvals.select_for_update()
    return approvals.first()


def sender_standing(address: str, enterprise: Enterprise) -> selectors_firms.SenderStanding:
    return selectors_firms.sender_standing(address, enterprise)


def blacklisted(enterprise: Enterprise, address: str) -> bool:
    return SenderApproval.objects.filter(
        enterprise=enterprise, address=address, status=SenderStatus.BLACKLISTED
    ).exists()


# --- the pages ----------------------------------------------------------------------------------


def addresses_of(box: Ebox) -> dict[str, IntakeAddress]:
    """The intake addresses of the box's spaces that exist, by folder."""
    return {address.folder: address for address in IntakeAddress.objects.filter(ebox=box)}


def senders_of(enterprise: Enterprise) -> QuerySet[SenderApproval]:
    """Every address that sent documents to the enterprise, those waiting first, each with the
    number of its mails waiting (``waiting_count``)."""
    return (
        SenderApproval.objects.filter(enterprise=enterprise)
        .annotate(waiting_count=Count("waiting"))
        .order_by("-waiting_count", "address")
    )


@dataclass(frozen=True)
class DirectSender:
    """An address whose mail went straight in by the rules (a person of the enterprise, a firm
    collaborator with it in favourites), with no decision about it: listed as authorized."""

    address: str
    rule: str
    last_mail_at: dt.datetime


def direct_senders(box: Ebox, known: set[str]) -> list[DirectSender]:
    """The addresses that sent documents straight into the box's spaces, except ``known`` ones."""
    found = (
        IntakeMail.objects.filter(ebox=box, rule__in=DIRECT_RULES)
        .exclude(from_address="")
        .values("from_address")
        .annotate(last=Max("received_at"), rule=Max("rule"))
        .order_by("from_address")
    )
    return [
        DirectSender(row["from_address"], row["rule"], row["last"])
        for row in found
        if row["from_address"] not in known
    ]


def approval_in(enterprise: Enterprise, approval_id: int) -> SenderApproval | None:
    return SenderApproval.objects.filter(enterprise=enterprise, pk=approval_id).first()


def waiting_mails(box: Ebox) -> QuerySet[PendingMail]:
    """The mails of the box waiting for a decision, oldest first."""
    return (
        PendingMail.objects.filter(ebox=box)
        .select_related("activity", "approval")
        .order_by("received_at", "pk")
    )


def waiting_without_address(box: Ebox) -> QuerySet[PendingMail]:
    """An enterprise's waiting mails that have no address to approve (no usable From)."""
    return waiting_mails(box).filter(approval__isnull=True)


def pending_in(box: Ebox, pending_id: int) -> PendingMail | None:
    return PendingMail.objects.filter(ebox=box, pk=pending_id).select_related("activity", "approval").first()


@dataclass(frozen=True)
class ActivityPage:
    items: list[IntakeMail]
    next_cursor: Cursor | None


def activity_page(box: Ebox, after: Cursor | None = None, size: int = ACTIVITY_PAGE) -> ActivityPage:
    """The mails received in the box's spaces, newest first, from the cursor on (keyset)."""
    mails = IntakeMail.objects.filter(ebox=box)
    if after is not None:
        mails = mails.filter(
            Q(received_at__lt=after.receipt_date) | Q(received_at=after.receipt_date, pk__lt=after.pk)
        )
    found = list(mails.order_by("-received_at", "-id")[: size + 1])
    items = found[:size]
    following = Cursor(items[-1].received_at, items[-1].pk) if len(found) > size else None
    return ActivityPage(items, following)


# --- what waits for a person ----------------------------------------------------------------------


@dataclass(frozen=True)
class Waiting:
    """Mails waiting for the person's decision: in an enterprise (E-mail access), or their own."""

    enterprise: Enterprise | None
    count: int


def waiting_for(user) -> list[Waiting]:
    """What waits for the person's decision, for the notice on every portal page."""
    if not getattr(user, "is_authenticated", False):
        return []
    found = []
    own = PendingMail.objects.filter(ebox__owner=user, approvers=Approvers.OWNER).count()
    if own:
        found.append(Waiting(None, own))
    administered = {
        enterprise.pk: enterprise for enterprise in selectors_firms.enterprises_administered_by(user)
    }
    attached = {enterprise.pk: enterprise for enterprise in selectors_firms.enterprises_attached_to(user)}
    condition = Q(pk__in=[])
    if administered:
        condition |= Q(ebox__enterprise__in=list(administered), approvers=Approvers.CLIENT_ADMIN)
    if attached:
        condition |= Q(ebox__enterprise__in=list(attached), approvers=Approvers.ATTACHED_COLLABORATORS)
    if administered or attached:
        counts = (
            PendingMail.objects.filter(condition)
            .values_list("ebox__enterprise")
            .annotate(n=Count("pk"))
            .order_by()
        )
        enterprises = {**administered, **attached}
        for enterprise_id, count in counts:
            found.append(Waiting(enterprises[enterprise_id], count))
    return found


def expired_pending(now: dt.datetime, limit: int) -> list[int]:
    return list(
        PendingMail.objects.filter(expires_at__lte=now)
        .order_by("expires_at")
        .values_list("pk", flat=True)[:limit]
    )
