"""Two-factor authentication: an authenticator app (TOTP, django-otp) and recovery codes.

A person has at most one confirmed authenticator (``TOTPDevice``) and one set of single-use
recovery codes (a ``StaticDevice``), shown once when made. Access managers must have one
(``permissions.needs_two_factor``; ``coffre.accounts.middleware`` sends them to the setup page).
Setting up, replacing and removing are audited and written to the security log. The secret of a
confirmed authenticator is never shown again; recovery codes are never shown twice.

Wrong codes are slowed down by django-otp's throttling (1, 2, 4, 8 ... seconds per device) and
limited per person (``SECOND_FACTOR_LIMIT`` in ``SECOND_FACTOR_WINDOW``).
"""

import base64
from dataclasses import dataclass
from datetime import timedelta

import segno
from django.db import transaction
from django.utils import timezone
from django_otp.models import Device
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from coffre.accounts.services_security import log_event
from coffre.audit.services import Actor, record
from coffre.core import ratelimit

RECOVERY_CODES = 10
AUTHENTICATOR_NAME = "authenticator"
RECOVERY_NAME = "recovery"
SECOND_FACTOR_LIMIT = 10
SECOND_FACTOR_WINDOW = timedelta(minutes=15)


class CodeRefused(Exception):
    """The code was wrong, or came too soon after wrong ones (``wait`` seconds, when known)."""

    def __init__(self, wait_seconds: int | None = None):
        super().__init__("code refused")
        self.wait_seconds = wait_seconds


class PasswordRefused(Exception):
    pass


def has_two_factor(person) -> bool:
    return TOTPDevice.objects.filter(user=person, confirmed=True).exists()


def recovery_codes_left(person) -> int:
    return StaticToken.objects.filter(device__user=person, device__confirmed=True).count()


def pending_authenticator(person) -> TOTPDevice:
    """The authenticator being set up (a fresh secret, kept until confirmed or replaced)."""
    with transaction.atomic():
        device = TOTPDevice.objects.filter(user=person, confirmed=False).order_by("pk").first()
        if device is None:
            device = TOTPDevice.objects.create(user=person, name=AUTHENTICATOR_NAME, confirmed=False)
    return device


def secret_text(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, for typing into an authenticator app."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_data_uri(device: TOTPDevice) -> str:
    """The ``otpauth://`` URI as a PNG QR code in a data URI (the CSP allows ``img-src data:``)."""
    return segno.make(device.config_url, error="m", boost_error=False).png_data_uri(scale=5, border=4)


def current_code(device: TOTPDevice) -> str:
    """The code the authenticator shows now (for the demo and the tests)."""
    value = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return str(value).zfill(device.digits)


def _normalize(code: str) -> str:
    return "".join((code or "").split()).replace("-", "").lower()


def _limit_key(person_id: int) -> str:
    return f"second-factor:person:{person_id}"


def second_factor_locked(person) -> timedelta | None:
    return ratelimit.retry_after(_limit_key(person.pk), SECOND_FACTOR_LIMIT, SECOND_FACTOR_WINDOW)


def _throttle_wait(device) -> int | None:
    allowed, data = device.verify_is_allowed()
    if allowed or not data or "locked_until" not in data:
        return None
    return max(1, int((data["locked_until"] - timezone.now()).total_seconds()) + 1)


def _check_authenticator(device: TOTPDevice, code: str) -> None:
    """Verify a TOTP code on one device; the throttling it counts is kept even when refused."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        wait = _throttle_wait(device)
        if wait is not None:
            raise CodeRefused(wait)
        verified = code.isdigit() and device.verify_token(code)
    if not verified:
        ratelimit.hit(_limit_key(device.user_id), SECOND_FACTOR_LIMIT, SECOND_FACTOR_WINDOW)
        raise CodeRefused(_throttle_wait(device))


def verify_second_factor(person, code: str, *, ip: str | None = None) -> Device:
    """The device that accepts ``code`` (authenticator code or recovery code); else CodeRefused."""
    if second_factor_locked(person):
        raise CodeRefused()
    code = _normalize(code)
    if code.isdigit() and len(code) in (6, 8):  # an authenticator's code; recovery codes have letters
        device = TOTPDevice.objects.filter(user=person, confirmed=True).first()
        if device is None:
            raise CodeRefused()
        _check_authenticator(device, code)
        ratelimit.reset(_limit_key(person.pk))
        return device
    with transaction.atomic():
        device = StaticDevice.objects.select_for_update().filter(user=person, confirmed=True).first()
        accepted = device is not None and bool(code) and device.verify_token(code)
        if accepted:
            left = device.token_set.count()
            log_event(
                "two_factor_changed",
                user=person,
                ip=ip,
                details={"change": "recovery_code_used", "recovery_codes_left": left},
            )
    if not accepted:
        ratelimit.hit(_limit_key(person.pk), SECOND_FACTOR_LIMIT, SECOND_FACTOR_WINDOW)
        raise CodeRefused(_throttle_wait(device) if device is not None else None)
    ratelimit.reset(_limit_key(person.pk))
    return device


def _new_recovery_codes(person) -> list[str]:
    StaticDevice.objects.filter(user=person).delete()
    device = StaticDevice.objects.create(user=person, name=RECOVERY_NAME, confirmed=True)
    codes = []
    while len(codes) < RECOVERY_CODES:
        code = StaticToken.random_token()
        if code not in codes and not code.isdigit():  # all digits would read as an authenticator code
            codes.append(code)
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


@dataclass(frozen=True)
class Confirmed:
    device: TOTPDevice
    recovery_codes: list[str]


def confirm_authenticator(
    person, device_id: int, code: str, actor: Actor, *, ip: str | None = None
) -> Confirmed:
    """Confirm the authenticator being set up with a code it shows; it replaces any former one,
    and a new set of recovery codes is made (returned, to be shown once)."""
    device = TOTPDevice.objects.filter(pk=device_id, user=person, confirmed=False).first()
    if device is None:
        raise CodeRefused()
    _check_authenticator(device, _normalize(code))
    with transaction.atomic():
        replaced = TOTPDevice.objects.filter(user=person, confirmed=True).exclude(pk=device.pk).delete()[0]
        TOTPDevice.objects.filter(pk=device.pk).update(confirmed=True)
        device.refresh_from_db()
        codes = _new_recovery_codes(person)
        change = "replaced" if replaced else "enabled"
        log_event("two_factor_changed", user=person, ip=ip, details={"change": change})
        record(actor, f"person.two_factor_{change}", details={"email": person.email})
    ratelimit.reset(_limit_key(person.pk))
    return Confirmed(device, codes)


def renew_recovery_codes(person, code: str, actor: Actor, *, ip: str | None = None) -> list[str]:
    """New recovery codes (the former ones stop working), against a code of the authenticator."""
    device = TOTPDevice.objects.filter(user=person, confirmed=True).first()
    if device is None:
        raise CodeRefused()
    _check_authenticator(device, _normalize(code))
    with transaction.atomic():
        codes = _new_recovery_codes(person)
        log_event("two_factor_changed", user=person, ip=ip, details={"change": "recovery_codes_renewed"})
        record(actor, "person.recovery_codes_renewed", details={"email": person.email})
    return codes


def disable_two_factor(person, password: str, code: str, actor: Actor, *, ip: str | None = None) -> None:
    """Remove the authenticator and the recovery codes, after the password and a current code."""
    if not person.check_password(password):
        raise PasswordRefused()
    verify_second_factor(person, code, ip=ip)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=person).delete()
        StaticDevice.objects.filter(user=person).delete()
        log_event("two_factor_changed", user=person, ip=ip, details={"change": "disabled"})
        record(actor, "person.two_factor_disabled", details={"email": person.email})


def ensure_authenticator(person, key_hex: str, actor: Actor) -> TOTPDevice:
    """A confirmed authenticator with this secret (the demo's people), idempotently."""
    with transaction.atomic():
        device = TOTPDevice.objects.filter(user=person, confirmed=True).first()
        if device is not None and device.key == key_hex:
            return device
        TOTPDevice.objects.filter(user=person).delete()
        device = TOTPDevice.objects.create(user=person, name=AUTHENTICATOR_NAME, key=key_hex, confirmed=True)
        log_event("two_factor_changed", user=person, details={"change": "enabled"})
        record(actor, "person.two_factor_enabled", details={"email": person.email})
    return device
