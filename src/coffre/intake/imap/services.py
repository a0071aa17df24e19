"""Changes to IMAP sources: added, changed, removed (each atomic with its audit record), and the
bookkeeping of a poll (claim, watermark, outcome, backoff).

Never stores or records the password in clear: it is sealed (``credentials``) before it reaches
a model, and audit details name the source, never its secret.
"""

import random
import re
import secrets
import ssl
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from coffre.audit.services import Actor, record
from coffre.core.net import is_loopback
from coffre.intake.imap import credentials
from coffre.intake.imap.models import DEFAULT_PORTS, ImapSource, Security

_TARGET = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._+-]{0,62}[A-Za-z0-9])?$")
_HOST = re.compile(r"^[A-Za-z0-9.:\-\[\]]{1,253}$")
POLL_LEASE = timedelta(minutes=15)
MAX_ERROR = 500


class SourceError(Exception):
    """A source cannot be added as given; the message says why (never with the password)."""


def _validated(
    target: str,
    host: str,
    port: int | None,
    security: str,
    username: str,
    password: str,
    folder: str,
    ca_certificate: str,
) -> dict:
    target, host, username, folder = target.strip(), host.strip().lower(), username.strip(), folder.strip()
    if not _TARGET.match(target):
        raise SourceError(
            f"the target {target!r} is not the local part of an intake address "
            "(letters, digits, '.', '_', '+', '-')"
        )
    if not _HOST.match(host):
        raise SourceError(f"the host {host!r} is not a host name or IP address")
    if security not in Security.values:
        raise SourceError(f"the security must be one of {', '.join(Security.values)}")
    if security == Security.PLAIN and not is_loopback(host):
        raise SourceError(
            "an unencrypted connection is only allowed to this machine (127.0.0.1, ::1, "
            "localhost): use tls or starttls"
        )
    port = port or DEFAULT_PORTS[Security(security)]
    if not 0 < port < 65536:
        raise SourceError("the port must be between 1 and 65535")
    if not username or len(username) > 320:
        raise SourceError("a username is needed (at most 320 characters)")
    if not password or len(password) > 1024 or "\n" in password or "\r" in password:
        raise SourceError("a password is needed: one line of at most 1024 characters")
    if not folder or len(folder) > 255:
        raise SourceError("a folder name is needed (at most 255 characters)")
    ca_certificate = ca_certificate.strip()
    if ca_certificate:
        try:
            ssl.create_default_context(cadata=ca_certificate)
        except (ssl.SSLError, ValueError):
            raise SourceError("the CA certificate is not a PEM certificate") from None
    return {
        "target": target,
        "host": host,
        "port": port,
        "security": security,
        "username": username,
        "folder": folder,
        "ca_certificate": ca_certificate,
    }


def describe(source: ImapSource) -> dict:
    """What the audit trail and the CLI show of a source (never the password)."""
    return {
        "id": source.pk,
        "target": source.target,
        "host": source.host,
        "port": source.port,
        "security": source.security,
        "username": source.username,
        "folder": source.folder,
        "private_ca": bool(source.ca_certificate),
    }


def add_source(
    *,
    target: str,
    host: str,
    username: str,
    password: str,
    actor: Actor,
    port: int | None = None,
    security: str = Security.TLS,
    folder: str = "INBOX",
    ca_certificate: str = "",
) -> tuple[ImapSource, bool]:
    """Add a mailbox to poll for ``target``, or bring the one with the same host, port, username and
    folder up to date (idempotent). Returns (source, created)."""
    fields = _validated(target, host, port, security, username, password, folder, ca_certificate)
    sealed = credentials.seal(password)
    with transaction.atomic():
        source = (
            ImapSource.objects.select_for_update()
            .filter(
                host=fields["host"], port=fields["port"], username=fields["username"], folder=fields["folder"]
            )
            .first()
        )
        created = source is None
        if created:
            source = ImapSource.objects.create(**fields, password_sealed=sealed)
            record(actor, "intake.imap_source.added", details=describe(source))
            return source, True
        changed = sorted(
            name for name in ("target", "security", "ca_certificate") if getattr(source, name) != fields[name]
        )
        if credentials.unseal_or_none(source.password_sealed) != password:
            changed.append("password")
        if not source.active:
            changed.append("active")
        for name in ("target", "security", "ca_certificate"):
            setattr(source, name, fields[name])
        source.password_sealed = sealed
        source.active = True
        if changed:
            # A new password or server setting deserves a try now, not after the backoff.
            source.next_attempt_at = None
            source.failures = 0
            source.save()
            record(actor, "intake.imap_source.updated", details={**describe(source), "changed": changed})
    return source, created


def remove_source(source_id: int, actor: Actor) -> bool:
    """Remove a source (its mails already delivered stay). False when there is no such source."""
    with transaction.atomic():
        source = ImapSource.objects.select_for_update().filter(pk=source_id).first()
        if source is None:
            return False
        details = describe(source)
        source.delete()
        record(actor, "intake.imap_source.removed", details=details)
    return True


# --- the bookkeeping of a poll --------------------------------------------------------------------


def claim(source_id: int, *, due_only: bool) -> str | None:
    """Take an active, unclaimed source for one poll (one UPDATE); the claim's id, or None.

    ``due_only``: only when its next attempt has come (the periodic poll); a poll asked for by
    hand does not wait for the backoff.
    """
    now = timezone.now()
    token = secrets.token_hex(16)
    query = ImapSource.objects.filter(pk=source_id, active=True).filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)
    )
    if due_only:
        query = query.filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    taken = query.update(claimed_by=token, claimed_until=now + POLL_LEASE, last_run_at=now)
    return token if taken else None


def reset_watermark(source_id: int, token: str, uid_validity: int, actor: Actor) -> bool:
    """The folder's UIDVALIDITY is not the one of the watermark: start again from its first message."""
    with transaction.atomic():
        source = ImapSource.objects.select_for_update().filter(pk=source_id, claimed_by=token).first()
        if source is None:
            return False
        previous = source.uid_validity
        source.uid_validity, source.last_uid = uid_validity, 0
        source.save(update_fields=["uid_validity", "last_uid"])
        if previous is not None:
            record(
                actor,
                "intake.imap_source.uidvalidity_changed",
                details={**describe(source), "previous": previous, "uid_validity": uid_validity},
            )
    return True


def advance(source_id: int, token: str, uid: int, *, delivered: bool) -> bool:
    """Move the watermark past ``uid`` (after the pipeline took it, or after it was skipped)."""
    return bool(
        ImapSource.objects.filter(pk=source_id, claimed_by=token, last_uid__lt=uid).update(
            last_uid=uid, delivered=F("delivered") + (1 if delivered else 0)
        )
    )


def record_skipped(source: ImapSource, uid: int, size: int, actor: Actor) -> None:
    with transaction.atomic():
        record(
            actor,
            "intake.imap_message.skipped",
            details={
                **describe(source),
                "uid": uid,
                "size": size,
                "reason": "larger than COFFRE_INTAKE_MAX_MESSAGE_SIZE "
                f"({settings.COFFRE_INTAKE_MAX_MESSAGE_SIZE})",
            },
        )


def retry_delay(failures: int) -> timedelta:
    """The wait after the ``failures``-th failed poll in a row: the poll interval doubling up to
    COFFRE_IMAP_RETRY_MAX, less a random 0-25 % (so that sources failing together spread out)."""
    low = settings.COFFRE_IMAP_POLL_INTERVAL
    high = max(low, settings.COFFRE_IMAP_RETRY_MAX)
    nominal = min(high, low * 2 ** min(max(failures, 1) - 1, 32))
    return timedelta(seconds=nominal * (1 - 0.25 * random.random()))


def record_success(source_id: int, token: str, *, more: bool) -> None:
    """The poll went through: next one after the interval (at once when messages are left)."""
    now = timezone.now()
    next_attempt = now if more else now + timedelta(seconds=settings.COFFRE_IMAP_POLL_INTERVAL)
    ImapSource.objects.filter(pk=source_id, claimed_by=token).update(
        last_success_at=now,
        last_error="",
        failures=0,
        next_attempt_at=next_attempt,
        claimed_by="",
        claimed_until=None,
    )


def record_failure(source_id: int, token: str, error: str) -> timedelta:
    """The poll failed (``error``: a clear sentence, never the password): retry with backoff."""
    source = ImapSource.objects.filter(pk=source_id).only("failures").first()
    failures = (source.failures if source else 0) + 1
    delay = retry_delay(failures)
    ImapSource.objects.filter(pk=source_id, claimed_by=token).update(
        last_error=error[:MAX_ERROR],
        failures=failures,
        next_attempt_at=timezone.now() + delay,
        claimed_by="",
        claimed_until=None,
    )
    return delay
