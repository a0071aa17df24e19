"""Business accounts and linking a person to one (seed 003).

Operators set business accounts up (client number, postal code of the business address, kind,
contract numbers, primary and billing contacts). A signed-in person links their profile to an
account by giving its client number, its postal code and, when it has contracts, one of its
contract numbers. The link makes them a member of the account's enterprise (unless they already
have a role there) and e-mails the account's primary contacts (and, for commercial accounts, its
billing contacts) a one-click link that removes the person: valid 30 days, usable once, never
re-sent. Anyone who holds that link, or the linked person, may report suspicious activity: it goes
to the security log and to the enterprise's principal access managers.

Every change is atomic with its audit record; mails leave once it has committed. This module never
stores, logs or repeats the values a person submitted when linking fails (not even in the security
log), never says which of them was wrong, and keeps only the SHA-256 of removal tokens.
"""

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from coffre.accounts.models import (
    AccountLink,
    BusinessAccount,
    BusinessContact,
    BusinessContract,
    Enterprise,
    Membership,
    Role,
    SecurityEvent,
    User,
)
from coffre.accounts.permissions import PRINCIPALS
from coffre.accounts.selectors import language_of_address
from coffre.audit.services import Actor, record, token_hash
from coffre.core import ratelimit
from coffre.core.mail import send_templated_mail

REMOVAL_LINK_VALIDITY = timedelta(days=30)
# Failed linking attempts allowed per window, per person and per (submitted) client number. Only
# failures count, so that many colleagues may link to the same account on the same morning.
PERSON_FAILURES = (5, timedelta(hours=1))
ACCOUNT_FAILURES = (10, timedelta(hours=1))
# Reports of suspicious activity that send mail, per link and per window.
REPORTS_PER_LINK = (3, timedelta(days=1))


class LinkRefused(Exception):
    """Linking failed. ``reason`` is ``no_match`` or ``rate_limited``; never which field."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class RemovalLinkExpired(Exception):
    """The removal link is unknown, was used, or is older than 30 days."""


class TooManyReports(Exception):
    """Suspicious activity on this link was already reported several times today."""


@dataclass(frozen=True)
class Change:
    """The outcome of an idempotent set-up command."""

    obj: object
    created: bool
    changed: bool


@dataclass(frozen=True)
class LinkOutcome:
    link: AccountLink
    created: bool  # False: the person was already linked (nothing sent)
    membership_created: bool
    notified: tuple[str, ...] = ()


def normalize_code(value: str | None) -> str:
    """Client numbers, postal codes and contract numbers compare without spaces, in upper case."""
    return "".join((value or "").split()).upper()


# --- operators: setting business accounts up ------------------------------------------------------


def set_up_account(
    client_number: str, *, enterprise: Enterprise, postal_code: str, kind: str | None, actor: Actor
) -> Change:
    """Create the business account, or update its postal code and kind (idempotent)."""
    client_number = normalize_code(client_number)
    postal_code = normalize_code(postal_code)
    if not client_number or not postal_code:
        raise ValueError("a business account needs a client number and a postal code")
    if len(client_number) > BusinessAccount._meta.get_field("client_number").max_length:
        raise ValueError("the client number is too long")
    if len(postal_code) > BusinessAccount._meta.get_field("postal_code").max_length:
        raise ValueError("the postal code is too long")
    if kind is not None and kind not in BusinessAccount.Kind.values:
        raise ValueError(f"kind must be one of {', '.join(BusinessAccount.Kind.values)}")
    with transaction.atomic():
        account = BusinessAccount.objects.select_for_update().filter(client_number=client_number).first()
        if account is None:
            account = BusinessAccount.objects.create(
                enterprise=enterprise,
                client_number=client_number,
                postal_code=postal_code,
                kind=kind or BusinessAccount.Kind.COMMERCIAL,
            )
            record(actor, "business_account.create", details=_account_details(account))
            return Change(account, created=True, changed=True)
        if account.enterprise_id != enterprise.pk:
            raise ValueError(f"client number {client_number} belongs to another enterprise")
        changes = {"postal_code": postal_code}
        if kind is not None:
            changes["kind"] = kind
        changed = {key: value for key, value in changes.items() if getattr(account, key) != value}
        if changed:
            for key, value in changed.items():
                setattr(account, key, value)
            account.save(update_fields=list(changed))
            record(actor, "business_account.update", details={"client_number": client_number, **changed})
        return Change(account, created=False, changed=bool(changed))


def _account_details(account: BusinessAccount) -> dict:
    return {
        "client_number": account.client_number,
        "cbe": account.enterprise.cbe,
        "postal_code": account.postal_code,
        "kind": account.kind,
    }


def set_contact(account: BusinessAccount, email: str, *, kind: str, name: str | None, actor: Actor) -> Change:
    """Add a primary or billing contact, or update its name (idempotent; e-mail case-insensitive)."""
    email = User.objects.normalize_email(email.strip()).lower()
    if "@" not in email:
        raise ValueError("a contact needs an e-mail address")
    if kind not in BusinessContact.Kind.values:
        raise ValueError(f"kind must be one of {', '.join(BusinessContact.Kind.values)}")
    with transaction.atomic():
        BusinessAccount.objects.select_for_update().filter(pk=account.pk).first()  # serialise set-ups
        contact = account.contacts.filter(kind=kind, email__iexact=email).first()
        details = {"client_number": account.client_number, "kind": kind, "email": email}
        if contact is None:
            contact = BusinessContact.objects.create(account=account, kind=kind, email=email, name=name or "")
            record(actor, "business_account.contact_add", details={**details, "name": contact.name})
            return Change(contact, created=True, changed=True)
        if name is not None and contact.name != name:
            contact.name = name
            contact.save(update_fields=["name"])
            record(actor, "business_account.contact_update", details={**details, "name": name})
            return Change(contact, created=False, changed=True)
        return Change(contact, created=False, changed=False)


def remove_contact(account: BusinessAccount, email: str, *, kind: str, actor: Actor) -> bool:
    with transaction.atomic():
        contacts = account.contacts.filter(kind=kind, email__iexact=email.strip())
        removed = [contact.email for contact in contacts]
        if not removed:
            return False
        contacts.delete()
        record(
            actor,
            "business_account.contact_remove",
            details={"client_number": account.client_number, "kind": kind, "email": removed[0]},
        )
        return True


def add_contract(account: BusinessAccount, number: str, *, actor: Actor) -> Change:
    number = normalize_code(number)
    if not number or len(number) > BusinessContract._meta.get_field("number").max_length:
        raise ValueError("a contract number has 1 to 30 characters")
    with transaction.atomic():
        BusinessAccount.objects.select_for_update().filter(pk=account.pk).first()
        contract, created = BusinessContract.objects.get_or_create(account=account, number=number)
        if created:
            record(
                actor,
                "business_account.contract_add",
                details={"client_number": account.client_number, "contract": number},
            )
        return Change(contract, created=created, changed=created)


def remove_contract(account: BusinessAccount, number: str, *, actor: Actor) -> bool:
    number = normalize_code(number)
    with transaction.atomic():
        deleted, _ = BusinessContract.objects.filter(account=account, number=number).delete()
        if deleted:
            record(
                actor,
                "business_account.contract_remove",
                details={"client_number": account.client_number, "contract": number},
            )
        return bool(deleted)


# --- people: linking ------------------------------------------------------------------------------


def _person_key(user: User) -> str:
    return f"link:person:{user.pk}"


def _account_key(client_number: str) -> str:
    # Hashed: the rate-limit table must not become a list of the client numbers people typed.
    return f"link:account:{token_hash(client_number)}"


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def _matching_account(client_number: str, postal_code: str, contract_number: str) -> BusinessAccount | None:
    """The account when every value matches, else None (which value failed is not kept)."""
    account = (
        BusinessAccount.objects.filter(client_number=client_number, enterprise__active=True)
        .select_related("enterprise")
        .first()
    )
    if account is None:
        return None
    postal_ok = _same(account.postal_code, postal_code)
    contracts = list(account.contracts.values_list("number", flat=True))
    # "When applicable": an account without contracts ignores the contract field.
    contract_ok = not contracts or any(_same(number, contract_number) for number in contracts)
    return account if postal_ok and contract_ok else None


def _refuse(user: User, reason: str, enterprise: Enterprise | None, actor: Actor, ip_address: str | None):
    with transaction.atomic():
        SecurityEvent.objects.create(
            kind="account_link_refused",
            enterprise=enterprise,
            user=user,
            ip_address=ip_address,
            details={"reason": reason},
        )
        record(actor, "account_link.refused", details={"user": user.email, "reason": reason})
    raise LinkRefused(reason)


def link_account(
    user: User,
    *,
    client_number: str,
    postal_code: str,
    contract_number: str = "",
    actor: Actor,
    base_url: str,
    ip_address: str | None = None,
) -> LinkOutcome:
    """Link ``user`` to the business account those values designate, or raise ``LinkRefused``.

    ``base_url`` (scheme and host) prefixes the removal link in the mail; ``COFFRE_BASE_URL`` wins.
    """
    client_number = normalize_code(client_number)
    postal_code = normalize_code(postal_code)
    contract_number = normalize_code(contract_number)
    person_key, account_key = _person_key(user), _account_key(client_number)
    known = BusinessAccount.objects.filter(client_number=client_number).select_related("enterprise").first()
    # The enterprise's security log shows attempts on its accounts; the person never sees it.
    enterprise = known.enterprise if known else None
    if ratelimit.blocked(person_key, *PERSON_FAILURES) or ratelimit.blocked(account_key, *ACCOUNT_FAILURES):
        _refuse(user, "rate_limited", enterprise, actor, ip_address)
    account = _matching_account(client_number, postal_code, contract_number)
    if account is None:
        ratelimit.hit(person_key, *PERSON_FAILURES)
        ratelimit.hit(account_key, *ACCOUNT_FAILURES)
        _refuse(user, "no_match", enterprise, actor, ip_address)
    with transaction.atomic():
        BusinessAccount.objects.select_for_update().filter(pk=account.pk).first()  # one link at a time
        existing = AccountLink.objects.filter(account=account, user=user, removed_at__isnull=True).first()
        if existing is not None:
            return LinkOutcome(existing, created=False, membership_created=existing.membership_id is not None)
        membership = None
        if not Membership.objects.filter(user=user, enterprise=account.enterprise).exists():
            membership = Membership.objects.create(user=user, enterprise=account.enterprise, role=Role.MEMBER)
        token = secrets.token_urlsafe(32)
        now = timezone.now()
        link = AccountLink.objects.create(
            account=account,
            user=user,
            created_at=now,
            removal_token_sha256=token_hash(token),
            removal_expires_at=now + REMOVAL_LINK_VALIDITY,
            membership=membership,
        )
        recipients = contacts_to_notify(account)
        details = {
            "link": link.pk,
            "client_number": account.client_number,
            "cbe": account.enterprise.cbe,
            "user": user.email,
            "membership_created": membership is not None,
            "notified": list(recipients),
        }
        record(actor, "account_link.create", details=details)
        SecurityEvent.objects.create(
            kind="account_linked",
            enterprise=account.enterprise,
            user=user,
            ip_address=ip_address,
            details={"link": link.pk, "client_number": account.client_number},
        )
        _send_link_notice(link, token, recipients, base_url, membership_created=membership is not None)
    return LinkOutcome(link, created=True, membership_created=membership is not None, notified=recipients)


def contacts_to_notify(account: BusinessAccount) -> tuple[str, ...]:
    """Primary contacts; for commercial accounts, billing contacts too (each address once)."""
    kinds = [BusinessContact.Kind.PRIMARY]
    if account.kind == BusinessAccount.Kind.COMMERCIAL:
        kinds.append(BusinessContact.Kind.BILLING)
    seen: dict[str, str] = {}
    contacts = sorted(account.contacts.filter(kind__in=kinds), key=lambda c: (kinds.index(c.kind), c.pk))
    for contact in contacts:  # primary contacts first
        seen.setdefault(contact.email.lower(), contact.email)
    return tuple(seen.values())


def _absolute(base_url: str, path: str) -> str:
    return (settings.COFFRE_BASE_URL or base_url.rstrip("/")) + path


def _send_link_notice(
    link: AccountLink, token: str, recipients: tuple[str, ...], base_url: str, *, membership_created: bool
) -> None:
    enterprise = link.account.enterprise
    context = {
        "person_name": link.user.full_name,
        "person_email": link.user.email,
        "enterprise_name": enterprise.name,
        "client_number": link.account.client_number,
        "account_kind": link.account.get_kind_display(),
        "linked_at": link.created_at,
        "expires_at": link.removal_expires_at,
        "removal_url": _absolute(base_url, reverse("accounts:link_removal", args=[token])),
        "support_contact": settings.COFFRE_SUPPORT_CONTACT,
        "membership_created": membership_created,
    }
    for email in recipients:  # one mail each: contacts do not see each other's addresses
        language = language_of_address(email, enterprise.language)
        send_templated_mail([email], "accounts/mail/linking_notice", context, language)


# --- removing a link ------------------------------------------------------------------------------


def link_for_token(token: str) -> AccountLink | None:
    """The link whose removal token this is (used, expired or not), or None."""
    if not token or len(token) > 128:
        return None
    return (
        AccountLink.objects.filter(removal_token_sha256=token_hash(token))
        .select_related("account__enterprise", "user")
        .first()
    )


def removal_usable(link: AccountLink | None) -> bool:
    """The one-click removal works once, for 30 days after the mail was sent."""
    return link is not None and link.removed_at is None and timezone.now() < link.removal_expires_at


def _remove(link: AccountLink, *, by: str, actor: Actor, ip_address: str | None) -> dict:
    now = timezone.now()
    link.removed_at = now
    link.save(update_fields=["removed_at"])
    membership = Membership.objects.filter(pk=link.membership_id).first() if link.membership_id else None
    # Only the member role this link gave; a role granted since by a manager stays.
    membership_removed = membership is not None and membership.role == Role.MEMBER
    if membership_removed:
        membership.delete()
    details = {
        "link": link.pk,
        "client_number": link.account.client_number,
        "cbe": link.account.enterprise.cbe,
        "user": link.user.email,
        "by": by,
        "membership_removed": membership_removed,
    }
    record(actor, "account_link.remove", details=details)
    SecurityEvent.objects.create(
        kind="account_link_removed",
        enterprise=link.account.enterprise,
        user=link.user,
        ip_address=ip_address,
        details={key: details[key] for key in ("link", "client_number", "by", "membership_removed")},
    )
    return details


def remove_link_by_token(token: str, *, actor: Actor, ip_address: str | None = None) -> AccountLink:
    """The e-mailed one-click removal (POST of its confirmation page); raises ``RemovalLinkExpired``."""
    digest = token_hash(token) if token and len(token) <= 128 else None
    with transaction.atomic():
        link = (
            AccountLink.objects.select_for_update()
            .filter(removal_token_sha256=digest)
            .select_related("account__enterprise", "user")
            .first()
        )
        if not removal_usable(link):
            raise RemovalLinkExpired()
        _remove(link, by="removal link", actor=actor, ip_address=ip_address)
    return link


def unlink_own(user: User, link_id: int, *, actor: Actor, ip_address: str | None = None) -> AccountLink:
    """The person removes their own link (from their linked accounts). ``DoesNotExist`` otherwise."""
    with transaction.atomic():
        link = (
            AccountLink.objects.select_for_update()
            .select_related("account__enterprise", "user")
            .get(pk=link_id, user=user, removed_at__isnull=True)
        )
        _remove(link, by="the person", actor=actor, ip_address=ip_address)
    return link


def live_links_of(user: User):
    return (
        AccountLink.objects.filter(user=user, removed_at__isnull=True)
        .select_related("account__enterprise")
        .order_by("-created_at")
    )


# --- reporting suspicious activity ----------------------------------------------------------------


def report_suspicious_activity(
    link: AccountLink,
    *,
    reported_by: str,
    actor: Actor,
    ip_address: str | None = None,
    reporter: User | None = None,
) -> tuple[str, ...]:
    """Record the report in the enterprise's security log and alert its principal access managers.

    ``reported_by`` is ``contact`` (from the e-mailed link) or ``linked person``. Returns the
    addresses alerted; raises ``TooManyReports`` past a few reports a day on the same link.
    """
    if not ratelimit.hit(f"suspicious:link:{link.pk}", *REPORTS_PER_LINK).allowed:
        raise TooManyReports()
    enterprise = link.account.enterprise
    principals = list(
        Membership.objects.filter(enterprise=enterprise, role__in=PRINCIPALS, user__is_active=True)
        .select_related("user")
        .order_by("role", "user__email")
    )
    with transaction.atomic():
        details = {
            "link": link.pk,
            "client_number": link.account.client_number,
            "linked_person": link.user.email,
            "reported_by": reported_by,
        }
        SecurityEvent.objects.create(
            kind="suspicious_activity",
            enterprise=enterprise,
            user=reporter,
            ip_address=ip_address,
            details=details,
        )
        alerted = tuple(membership.user.email for membership in principals)
        record(actor, "account_link.suspicious_activity", details={**details, "alerted": list(alerted)})
        context = {
            "enterprise_name": enterprise.name,
            "client_number": link.account.client_number,
            "person_name": link.user.full_name,
            "person_email": link.user.email,
            "linked_at": link.created_at,
            "link_removed": link.removed_at is not None,
            "reported_by_contact": reported_by == "contact",
            "reported_at": timezone.now(),
        }
        for membership in principals:
            send_templated_mail(
                [membership.user.email], "accounts/mail/linking_suspicious", context, membership.user.language
            )
    return alerted
