"""People's accounts: signing up, confirming the e-mail address, signing in within rate limits,
setting and changing passwords, and the person's own settings.

Nothing here tells a visitor whether an address has an account: signing up with a known address,
asking for a new confirmation link or for a password reset all answer the same, and only the
mailbox owner learns more (by e-mail). A locked address answers like a wrong password, plus the
time to wait; the lock applies to any address typed, known or not.

A new account stays inactive until its owner follows the e-mailed link *and* gives the password
chosen at sign-up: someone who signed up first with another person's address cannot have that
person activate an account whose password the intruder knows. Whoever can read the mailbox and
does not know the password uses the password reset, which also confirms the address.
"""

import hashlib
import math
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from coffre.accounts.models import User
from coffre.accounts.services_security import log_event
from coffre.audit.services import Actor, record
from coffre.core import ratelimit
from coffre.core.mail import send_templated_mail

VERIFY_SALT = "coffre.accounts.verify-email"
VERIFICATION_MAX_AGE = timedelta(days=3)
# Sign-in: wrong passwords allowed per address and per client address in the window; the next
# attempt is refused, even with the right password, until the window ends.
LOGIN_LIMIT = 5
LOGIN_IP_LIMIT = 50
LOGIN_WINDOW = timedelta(minutes=15)
# E-mails a visitor can make us send: confirmation links, password reset links, sign-ups.
RESEND_LIMIT = 3
RESET_LIMIT = 3
MAIL_WINDOW = timedelta(hours=1)
SIGNUP_IP_LIMIT = 20


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _address_key(prefix: str, email: str) -> str:
    # Addresses are hashed: keys stay short, and the bucket table holds no address.
    return f"{prefix}:address:{_digest(normalize_email(email))}"


def _ip_key(prefix: str, ip: str | None) -> str:
    return f"{prefix}:ip:{ip or 'unknown'}"


# --- signing in -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginLock:
    """Sign-in refused for this long (too many wrong passwords)."""

    retry_after: timedelta

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.retry_after.total_seconds() / 60))


def login_lock(email: str, ip: str | None) -> LoginLock | None:
    """The lock in force for this address or this client address, if any (counts nothing)."""
    waits = [
        ratelimit.retry_after(_address_key("login", email), LOGIN_LIMIT, LOGIN_WINDOW),
        ratelimit.retry_after(_ip_key("login", ip), LOGIN_IP_LIMIT, LOGIN_WINDOW),
    ]
    waits = [wait for wait in waits if wait is not None]
    return LoginLock(max(waits)) if waits else None


def note_failed_login(email: str, ip: str | None) -> LoginLock | None:
    """Count a wrong password; log it (known people only) and any lock it starts."""
    email = normalize_email(email)
    by_address = ratelimit.hit(_address_key("login", email), LOGIN_LIMIT, LOGIN_WINDOW)
    by_ip = ratelimit.hit(_ip_key("login", ip), LOGIN_IP_LIMIT, LOGIN_WINDOW)
    person = User.objects.filter(email__iexact=email).first()
    with transaction.atomic():
        if person is not None:
            log_event("login_failed", user=person, ip=ip, details={"attempt": by_address.count})
        if by_address.count == LOGIN_LIMIT:
            log_event(
                "login_locked",
                user=person,
                ip=ip,
                details={"scope": "address", "minutes": int(LOGIN_WINDOW.total_seconds() // 60)},
            )
        if by_ip.count == LOGIN_IP_LIMIT:
            log_event(
                "login_locked",
                ip=ip,
                details={"scope": "ip", "minutes": int(LOGIN_WINDOW.total_seconds() // 60)},
            )
    return login_lock(email, ip)


def note_successful_login(email: str) -> None:
    ratelimit.reset(_address_key("login", email))


# --- signing up and confirming the address --------------------------------------------------------


class InvalidLink(Exception):
    """A confirmation link that is not ours, or no longer matches its account."""


class ExpiredLink(InvalidLink):
    pass


def verification_token(person: User) -> str:
    return signing.dumps({"u": person.pk, "e": person.email}, salt=VERIFY_SALT, compress=True)


def person_for_verification(token: str) -> User:
    """The person a confirmation link was made for; ``ExpiredLink`` / ``InvalidLink`` else."""
    try:
        data = signing.loads(token, salt=VERIFY_SALT, max_age=VERIFICATION_MAX_AGE)
    except signing.SignatureExpired:
        raise ExpiredLink() from None
    except signing.BadSignature:
        raise InvalidLink() from None
    person = User.objects.filter(pk=data.get("u"), email=data.get("e")).first()
    if person is None:
        raise InvalidLink()
    return person


def _send_verification(person: User, base_url: str, next_url: str = "") -> None:
    link = base_url + reverse("accounts:verify_email", args=[verification_token(person)])
    if next_url:
        link += "?" + urlencode({"next": next_url})
    send_templated_mail(
        [person.email],
        "accounts/mail/verify_email",
        {
            "person": person,
            "link": link,
            "days": VERIFICATION_MAX_AGE.days,
            "reset_link": base_url + reverse("accounts:password_reset"),
        },
        person.language,
    )


def sign_up(
    email: str,
    password: str,
    *,
    full_name: str,
    language: str,
    base_url: str,
    actor: Actor,
    next_url: str = "",
) -> User | None:
    """Create an inactive account and e-mail its confirmation link; the new person, or None.

    A known address gets no new account: its owner is told by e-mail (an account exists: log in
    or reset the password; or, when not yet confirmed, a new confirmation link).
    """
    email = normalize_email(email)
    with transaction.atomic():
        existing = User.objects.select_for_update().filter(email__iexact=email).first()
        if existing is None:
            try:
                with transaction.atomic():
                    person = User.objects.create_user(
                        email, password, full_name=full_name.strip(), language=language, is_active=False
                    )
            except IntegrityError:  # the same address signed up at the same moment
                return None
            record(actor, "person.sign_up", details={"email": email})
            _send_verification(person, base_url, next_url)
            return person
        if existing.email_verified_at is None and not existing.is_active:
            _send_verification(existing, base_url, next_url)
        elif existing.is_active:
            send_templated_mail(
                [existing.email],
                "accounts/mail/account_exists",
                {
                    "person": existing,
                    "login_link": base_url + reverse("accounts:login"),
                    "reset_link": base_url + reverse("accounts:password_reset"),
                },
                existing.language,
            )
        # An account closed by the operator gets nothing.
        return None


def sign_up_allowed(ip: str | None) -> bool:
    return ratelimit.hit(_ip_key("signup", ip), SIGNUP_IP_LIMIT, MAIL_WINDOW).allowed


def resend_verification(email: str, *, base_url: str) -> None:
    """E-mail a new confirmation link to an account waiting for one (silently limited)."""
    if not ratelimit.hit(_address_key("verify-resend", email), RESEND_LIMIT, MAIL_WINDOW).allowed:
        return
    person = User.objects.filter(
        email__iexact=normalize_email(email), is_active=False, email_verified_at__isnull=True
    ).first()
    if person is not None:
        with transaction.atomic():
            _send_verification(person, base_url)


def confirm_email(person: User, actor: Actor) -> bool:
    """Mark the address confirmed and the account usable; False when it already was."""
    with transaction.atomic():
        person = User.objects.select_for_update().get(pk=person.pk)
        if person.email_verified_at is not None:
            return False
        person.email_verified_at = timezone.now()
        person.is_active = True
        person.save(update_fields=["email_verified_at", "is_active"])
        record(actor, "person.email_verified", details={"email": person.email})
    return True


def awaiting_confirmation(email: str, password: str) -> bool:
    """True for the right password of an account whose address is not confirmed yet."""
    person = User.objects.filter(
        email__iexact=normalize_email(email), is_active=False, email_verified_at__isnull=True
    ).first()
    return person is not None and person.check_password(password)


# --- passwords ------------------------------------------------------------------------------------


def password_reset_allowed(email: str, ip: str | None) -> bool:
    """At most a few reset e-mails an hour per address, and per client (beyond: silently none)."""
    by_address = ratelimit.hit(_address_key("reset", email), RESET_LIMIT, MAIL_WINDOW)
    by_ip = ratelimit.hit(_ip_key("reset", ip), SIGNUP_IP_LIMIT, MAIL_WINDOW)
    return by_address.allowed and by_ip.allowed


def set_password_from_reset(person: User, password: str, actor: Actor) -> User:
    """A new password chosen through an e-mailed reset link; it also confirms the address."""
    with transaction.atomic():
        person = User.objects.select_for_update().get(pk=person.pk)
        person.set_password(password)
        fields = ["password"]
        if person.email_verified_at is None and not person.is_active:
            person.email_verified_at = timezone.now()
            person.is_active = True
            fields += ["email_verified_at", "is_active"]
        person.save(update_fields=fields)
        record(actor, "person.password_reset", details={"email": person.email})
    ratelimit.reset(_address_key("login", person.email))
    return person


def change_password(person: User, password: str, actor: Actor) -> None:
    with transaction.atomic():
        person.set_password(password)
        person.save(update_fields=["password"])
        record(actor, "person.password_changed", details={"email": person.email})


def update_profile(person: User, *, full_name: str, language: str, actor: Actor) -> None:
    changes = {
        key: value
        for key, value in (("full_name", full_name.strip()), ("language", language))
        if getattr(person, key) != value
    }
    if not changes:
        return
    with transaction.atomic():
        for key, value in changes.items():
            setattr(person, key, value)
        person.save(update_fields=list(changes))
        record(actor, "person.update", details={"email": person.email, **changes})


def create_verified_person(
    email: str, password: str, *, full_name: str = "", language: str = "fr", actor: Actor
) -> tuple[User, bool]:
    """An operator's (or the demo's) ready-to-use account, idempotently; (person, created)."""
    email = normalize_email(email)
    with transaction.atomic():
        person = User.objects.select_for_update().filter(email__iexact=email).first()
        created = person is None
        if created:
            person = User.objects.create_user(email, password, full_name=full_name, language=language)
        changed = created
        if not person.check_password(password):
            person.set_password(password)
            changed = True
        if person.email_verified_at is None or not person.is_active:
            person.email_verified_at = person.email_verified_at or timezone.now()
            person.is_active = True
            changed = True
        if full_name and person.full_name != full_name:
            person.full_name = full_name
            changed = True
        if changed:
            person.save()
            record(actor, "person.create" if created else "person.update", details={"email": email})
    return person, created
