"""e-Box management (seed 000): the one notification e-mail address of an enterprise and its
anti-phishing phrase.

A new address is used only once someone who reads it has confirmed it: the request stores the
address as pending with the SHA-256 of a signed, single-use token and sends the link carrying the
token to the new address only (never to anyone else: a typing error must not leak the e-Box's
existence nor its phrase). Until the link is used the current address stays in force. The link
expires after CONFIRMATION_VALIDITY; asking again (or resending) replaces the token, so that only
the latest link works. Sending confirmation links is rate-limited per e-Box and per person.

Each service is atomic and writes its audit record in the same transaction; e-mail addresses are
recorded as their SHA-256 (personal data), the phrase never. Mails leave after the commit.
This module never logs a token.
"""

import hashlib
import hmac
import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from coffre.accounts.selectors import language_of_address
from coffre.audit.services import Actor, record
from coffre.core import ratelimit
from coffre.core.mail import send_templated_mail
from coffre.mailbox.models import Ebox

CONFIRMATION_VALIDITY = timedelta(days=7)
# Confirmation e-mails: per e-Box, and per person across e-Boxes.
LIMIT_PER_EBOX = (5, timedelta(hours=1))
LIMIT_PER_PERSON = (10, timedelta(days=1))
PHRASE_MIN = 4
PHRASE_MAX = 60
TOKEN_SALT = "coffre.mailbox.notification-address"
MAIL_CONFIRM = "mailbox/mail/address_confirm"
MAIL_CHANGED = "mailbox/mail/address_changed"


class ManagementRefused(Exception):
    """A change the page refuses; ``message`` is for the person (translated)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class TooManyRequests(ManagementRefused):
    pass


class InvalidConfirmation(Exception):
    """A confirmation link that does not (or no longer) confirm anything: ``reason`` is
    ``invalid`` (unknown, altered, used, replaced or cancelled) or ``expired``."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class PendingAddress:
    email: str
    expires_at: datetime


def email_hash(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token(ebox: Ebox) -> str:
    return signing.dumps({"e": ebox.pk, "n": secrets.token_urlsafe(24)}, salt=TOKEN_SALT)


def _count_attempt(ebox: Ebox, person_key: str) -> None:
    verdicts = [
        ratelimit.hit(f"ebox-address:ebox:{ebox.pk}", *LIMIT_PER_EBOX),
        ratelimit.hit(f"ebox-address:person:{person_key}", *LIMIT_PER_PERSON),
    ]
    if not all(verdict.allowed for verdict in verdicts):
        raise TooManyRequests(_("Too many confirmation e-mails were sent. Try again later."))


def _send_confirmation(ebox: Ebox, token: str, *, requested_by: str, language: str, link_for) -> None:
    send_templated_mail(
        [ebox.pending_email],
        MAIL_CONFIRM,
        {
            "enterprise": ebox.enterprise,
            "email": ebox.pending_email,
            "link": link_for(token),
            "expires_at": ebox.pending_expires_at,
            "requested_by": requested_by,
        },
        language_of_address(ebox.pending_email, language),
    )


def request_address_change(
    ebox: Ebox,
    email: str,
    *,
    requested_by: str,
    actor: Actor,
    language: str,
    link_for: Callable[[str], str],
) -> PendingAddress:
    """Make ``email`` the pending notification address and send it a confirmation link.

    ``requested_by`` is the e-mail address of the person asking (shown in the mail, and the key of
    the per-person limit); ``link_for(token)`` makes the absolute confirmation URL. The mail is in
    the language of the person who signs in with the new address, else in ``language``.
    """
    email = email.strip()
    current = ebox.notification_email.strip().lower()
    if email.lower() == current and ebox.notification_status == "verified" and not ebox.pending_email:
        raise ManagementRefused(_("This is already the confirmed notification address."))
    _count_attempt(ebox, requested_by.lower())
    with transaction.atomic():
        ebox = Ebox.objects.select_for_update(of=("self",)).select_related("enterprise").get(pk=ebox.pk)
        token = _new_token(ebox)
        ebox.pending_email = email
        ebox.pending_token_sha256 = _token_hash(token)
        ebox.pending_expires_at = timezone.now() + CONFIRMATION_VALIDITY
        ebox.save(update_fields=["pending_email", "pending_token_sha256", "pending_expires_at"])
        record(
            actor,
            "ebox.notificationAddress.request",
            details={"ebox": ebox.enterprise.cbe, "pendingAddressSha256": email_hash(email)},
        )
        _send_confirmation(ebox, token, requested_by=requested_by, language=language, link_for=link_for)
    return PendingAddress(ebox.pending_email, ebox.pending_expires_at)


def resend_confirmation(
    ebox: Ebox, *, requested_by: str, actor: Actor, language: str, link_for: Callable[[str], str]
) -> PendingAddress:
    """A new link for the pending address (the previous link stops working)."""
    ebox = Ebox.objects.select_related("enterprise").get(pk=ebox.pk)
    if not ebox.pending_email:
        raise ManagementRefused(_("No address is waiting for confirmation."))
    return request_address_change(
        ebox, ebox.pending_email, requested_by=requested_by, actor=actor, language=language, link_for=link_for
    )


def cancel_address_change(ebox: Ebox, *, actor: Actor) -> None:
    with transaction.atomic():
        ebox = Ebox.objects.select_for_update(of=("self",)).select_related("enterprise").get(pk=ebox.pk)
        if not ebox.pending_email:
            raise ManagementRefused(_("No address is waiting for confirmation."))
        pending = ebox.pending_email
        _clear_pending(ebox)
        ebox.save(update_fields=["pending_email", "pending_token_sha256", "pending_expires_at"])
        record(
            actor,
            "ebox.notificationAddress.cancel",
            details={"ebox": ebox.enterprise.cbe, "pendingAddressSha256": email_hash(pending)},
        )


def _clear_pending(ebox: Ebox) -> None:
    ebox.pending_email = ""
    ebox.pending_token_sha256 = ""
    ebox.pending_expires_at = None


def _pending_for(token: str, cbe: str, *, lock: bool) -> Ebox:
    try:
        data = signing.loads(token, salt=TOKEN_SALT, max_age=CONFIRMATION_VALIDITY)
    except signing.SignatureExpired:
        raise InvalidConfirmation("expired") from None
    except signing.BadSignature:
        raise InvalidConfirmation("invalid") from None
    if not isinstance(data, dict) or not isinstance(data.get("e"), int):
        raise InvalidConfirmation("invalid")
    boxes = Ebox.objects.select_related("enterprise").filter(pk=data["e"], enterprise__cbe=cbe)
    ebox = (boxes.select_for_update(of=("self",)) if lock else boxes).first()
    if ebox is None or not ebox.pending_token_sha256:
        raise InvalidConfirmation("invalid")
    if not hmac.compare_digest(ebox.pending_token_sha256, _token_hash(token)):
        raise InvalidConfirmation("invalid")
    if ebox.pending_expires_at is None or ebox.pending_expires_at <= timezone.now():
        raise InvalidConfirmation("expired")
    return ebox


def pending_confirmation(token: str, cbe: str) -> PendingAddress:
    """What a confirmation link would confirm (nothing changes); InvalidConfirmation if nothing."""
    ebox = _pending_for(token, cbe, lock=False)
    return PendingAddress(ebox.pending_email, ebox.pending_expires_at)


def confirm_address(token: str, cbe: str, *, actor: Actor) -> Ebox:
    """Use a confirmation link: its address becomes the verified notification address (once).

    The previous address, when there was another one, is told of the change (with the phrase, so
    that its readers can trust the notice).
    """
    with transaction.atomic():
        ebox = _pending_for(token, cbe, lock=True)
        previous = ebox.notification_email
        ebox.notification_email = ebox.pending_email
        ebox.notification_status = "verified"
        ebox.notification_verified_at = timezone.now()
        ebox.notification_failure = ""
        _clear_pending(ebox)
        ebox.save(
            update_fields=[
                "notification_email",
                "notification_status",
                "notification_verified_at",
                "notification_failure",
                "pending_email",
                "pending_token_sha256",
                "pending_expires_at",
            ]
        )
        record(
            actor,
            "ebox.notificationAddress.confirm",
            details={
                "ebox": ebox.enterprise.cbe,
                "addressSha256": email_hash(ebox.notification_email),
                "previousAddressSha256": email_hash(previous) if previous else None,
            },
        )
        if previous and previous.lower() != ebox.notification_email.lower():
            send_templated_mail(
                [previous],
                MAIL_CHANGED,
                {
                    "enterprise": ebox.enterprise,
                    "email": ebox.notification_email,
                    "phrase": ebox.anti_phishing_phrase,
                },
                language_of_address(previous, ebox.enterprise.language),
            )
    return ebox


def phrase_problem(phrase: str) -> str | None:
    """Why ``phrase`` cannot be the anti-phishing phrase (translated), or None."""
    if not PHRASE_MIN <= len(phrase) <= PHRASE_MAX:
        return _("The phrase must have between %(min)d and %(max)d characters.") % {
            "min": PHRASE_MIN,
            "max": PHRASE_MAX,
        }
    if "<" in phrase or ">" in phrase:
        return _("The phrase may not contain < or > (no HTML).")
    if any(unicodedata.category(char).startswith("C") for char in phrase):
        return _("The phrase may not contain control characters.")
    return None


def set_anti_phishing_phrase(ebox: Ebox, phrase: str, *, actor: Actor) -> None:
    """Set, change or (with "") remove the phrase that every notification carries."""
    phrase = " ".join(phrase.split())
    if phrase:
        problem = phrase_problem(phrase)
        if problem:
            raise ManagementRefused(problem)
    with transaction.atomic():
        ebox = Ebox.objects.select_for_update(of=("self",)).select_related("enterprise").get(pk=ebox.pk)
        had_phrase = bool(ebox.anti_phishing_phrase)
        ebox.anti_phishing_phrase = phrase
        ebox.save(update_fields=["anti_phishing_phrase"])
        record(
            actor,
            "ebox.antiPhishingPhrase." + ("set" if phrase else "remove"),
            details={"ebox": ebox.enterprise.cbe, "replaced": had_phrase},
        )


def without_address(text: str, address: str) -> str:
    """``text`` (e.g. a mail server's answer) with ``address`` replaced by ``[address]``: the audit
    trail keeps addresses as hashes only."""
    if not address.strip():
        return text
    return re.sub(re.escape(address.strip()), "[address]", text, flags=re.IGNORECASE)


def mark_notification_address_failing(ebox_id: int, address: str, reason: str, *, actor: Actor) -> bool:
    """A mail to ``address`` was refused for good (SMTP 5xx, or a bounce): when ``address`` is still
    the e-Box's notification address, mark it failing with ``reason`` (shown on the management page
    and to the access managers in the portal) until an address is confirmed again. True when
    marked now; False when the address changed meanwhile or was already marked failing.

    Call it inside the transaction that records the failed mail.
    """
    with transaction.atomic():
        ebox = Ebox.objects.select_for_update(of=("self",)).select_related("enterprise").filter(pk=ebox_id).first()
        if ebox is None or ebox.notification_email.strip().lower() != address.strip().lower():
            return False
        if ebox.notification_status == "failing":
            return False  # the first reason stays: it is what the managers were shown
        reason = " ".join(reason.split())[:300]
        ebox.notification_status = "failing"
        ebox.notification_failure = reason
        ebox.save(update_fields=["notification_status", "notification_failure"])
        record(
            actor,
            "ebox.notificationAddress.failing",
            details={
                "ebox": ebox.enterprise.cbe,
                "addressSha256": email_hash(address),
                "reason": without_address(reason, address),
            },
        )
    return True
