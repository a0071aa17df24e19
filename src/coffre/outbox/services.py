"""Queueing and delivering outgoing e-mails (see models.py for the guarantees, docs/mail.md).

- ``queue_mail`` writes a mail once per key in the caller's transaction; its delivery starts after
  commit (a task, or at once in this process for the portal's own mails).
- ``deliver`` claims one due mail (a conditional UPDATE: two workers never hand over the same
  mail), hands it to the mail backend and records the outcome: sent; a temporary failure (kept
  queued, retried with exponential backoff and jitter); a permanent one (failed, and when it went
  to an e-Box's current notification address, that address is marked failing).
- ``enqueue_due`` is the periodic sweep: every queued mail whose time has come and whose task is
  not on its way gets one, so that a lost task or a crash never forgets a mail.
- ``record_bounce`` applies a delivery status notification received by ``coffre smtpd``.

Nothing here logs a credential or the content of a mail.
"""

import logging
import random
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.mail.message import make_msgid
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from coffre.audit.services import Actor, record
from coffre.core.mail import render_mail
from coffre.mailbox import services_management
from coffre.outbox import transport
from coffre.outbox.dsn import DeliveryReport
from coffre.outbox.models import MailStatus, OutgoingMail

logger = logging.getLogger("coffre.outbox")

# How long a worker holds its claim on a mail: longer than any SMTP conversation can take.
DELIVERY_LEASE = timedelta(minutes=10)
# A due mail whose task was enqueued this long ago without any attempt gets another task.
REENQUEUE_AFTER = timedelta(minutes=15)
SWEEP_BATCH = 1000
DELIVERY_ACTOR = Actor.system("outbox.deliver")
BOUNCE_ACTOR = Actor.system("smtpd.bounce")


def queue_mail(
    *,
    key: str,
    purpose: str,
    to: str,
    prefix: str,
    context: dict,
    language: str,
    headers: dict | None = None,
    ebox=None,
    deliver_now: bool = False,
) -> tuple[OutgoingMail, bool]:
    """Write the mail ``key`` (rendered now, in ``language``) in the current transaction, once:
    returns (mail, True) when queued by this call, (existing mail, False) when the key was queued
    before. Delivery starts after commit. ``ebox``: the e-Box whose notification address ``to`` is.

    ``deliver_now``: after commit, hand the mail over in this process rather than through a task
    (the portal's mails that a person is waiting for); a failure leaves it to the retries.
    """
    existing = OutgoingMail.objects.filter(key=key).first()
    if existing is not None:
        return existing, False
    subject, text, html = render_mail(prefix, context, language)
    mail = OutgoingMail.objects.create(
        key=key,
        purpose=purpose[:40],
        to_address=to,
        from_address=settings.DEFAULT_FROM_EMAIL,
        subject=subject[:500],
        text=text,
        html=html or "",
        headers=headers or {},
        ebox=ebox,
        message_id=make_msgid(domain=settings.COFFRE_MAIL_DOMAIN),
        enqueued_at=timezone.now(),
    )
    if deliver_now:
        transaction.on_commit(lambda: deliver(mail.pk), robust=True)
    else:
        transaction.on_commit(lambda: _start_delivery(mail.pk))
    return mail, True


def _start_delivery(mail_pk: int) -> None:
    from coffre.outbox.tasks import deliver_mail

    deliver_mail.enqueue(mail_pk)


def email_of(mail: OutgoingMail):
    return transport.email_of(mail)


def retry_delay(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: COFFRE_MAIL_RETRY_MIN doubling with each
    attempt up to COFFRE_MAIL_RETRY_MAX, less a random 0-25 % (jitter: mails that failed together
    do not all come back at the same second)."""
    low = settings.COFFRE_MAIL_RETRY_MIN
    high = max(low, settings.COFFRE_MAIL_RETRY_MAX)
    nominal = min(high, low * 2 ** min(max(attempts, 1) - 1, 32))
    return timedelta(seconds=nominal * (1 - 0.25 * random.random()))


def claim_mail(mail_pk: int) -> str | None:
    """Take the claim on a due, queued, unclaimed mail (one UPDATE); the claim's id, or None."""
    now = timezone.now()
    claim = secrets.token_hex(16)
    taken = (
        OutgoingMail.objects.filter(pk=mail_pk, status=MailStatus.QUEUED, next_attempt_at__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
        .update(claimed_by=claim, claimed_until=now + DELIVERY_LEASE)
    )
    return claim if taken else None


def deliver(mail_pk: int) -> str:
    """Hand one due mail to the mail backend and record the outcome.

    Returns the mail's status afterwards ("sent", "queued" for a retry or a mail not due or
    claimed by another worker, "failed"), or "missing".
    """
    claim = claim_mail(mail_pk)
    if claim is None:
        status = OutgoingMail.objects.filter(pk=mail_pk).values_list("status", flat=True).first()
        return status or "missing"
    mail = OutgoingMail.objects.get(pk=mail_pk)
    try:
        transport.send(mail)
    except Exception as exc:  # noqa: BLE001 - every failure is recorded, none may lose the mail
        failure = transport.classify(exc)
        if not isinstance(exc, OSError):
            logger.exception("outbox: mail %s: unexpected error during the hand-off", mail.pk)
        if failure.permanent:
            _record_permanent_failure(mail, claim, failure)
            return MailStatus.FAILED
        _record_temporary_failure(mail, claim, failure)
        return MailStatus.QUEUED
    now = timezone.now()
    recorded = OutgoingMail.objects.filter(pk=mail.pk, claimed_by=claim).update(
        status=MailStatus.SENT,
        sent_at=now,
        attempts=F("attempts") + 1,
        last_error="",
        claimed_by="",
        claimed_until=None,
        enqueued_at=None,
    )
    if not recorded:
        logger.warning("outbox: mail %s was sent after its claim had expired", mail.pk)
    return MailStatus.SENT


def _record_temporary_failure(mail: OutgoingMail, claim: str, failure: transport.DeliveryFailure) -> None:
    attempts = mail.attempts + 1
    delay = retry_delay(attempts)
    OutgoingMail.objects.filter(pk=mail.pk, claimed_by=claim).update(
        attempts=attempts,
        next_attempt_at=timezone.now() + delay,
        last_error=failure.summary,
        claimed_by="",
        claimed_until=None,
        enqueued_at=None,
    )
    logger.warning(
        "outbox: mail %s (%s) not delivered, attempt %d, retry in %ds: %s",
        mail.pk, mail.purpose, attempts, delay.total_seconds(), failure.summary,
    )


def _record_permanent_failure(mail: OutgoingMail, claim: str, failure: transport.DeliveryFailure) -> None:
    with transaction.atomic():
        updated = OutgoingMail.objects.filter(pk=mail.pk, claimed_by=claim).update(
            status=MailStatus.FAILED,
            failed_at=timezone.now(),
            attempts=F("attempts") + 1,
            last_error=failure.summary,
            claimed_by="",
            claimed_until=None,
            enqueued_at=None,
        )
        if updated:
            _mail_failed(mail, failure.summary, address_refused=failure.address_refused, actor=DELIVERY_ACTOR)
    logger.warning("outbox: mail %s (%s) refused for good: %s", mail.pk, mail.purpose, failure.summary)


def _mail_failed(mail: OutgoingMail, reason: str, *, address_refused: bool, actor: Actor) -> None:
    """Inside the transaction that marked the mail failed: its audit record, and its notification
    address marked failing when the mail went to the e-Box's current one."""
    recorded = services_management.without_address(reason, mail.to_address)[:300]
    record(actor, "outbox.mail.failed", details={"mail": mail.pk, "purpose": mail.purpose, "reason": recorded})
    if address_refused and mail.ebox_id:
        services_management.mark_notification_address_failing(
            mail.ebox_id, mail.to_address, reason, actor=actor
        )


def enqueue_due(limit: int = SWEEP_BATCH) -> int:
    """Enqueue a delivery task for every due queued mail without a task on its way; their count."""
    now = timezone.now()
    due = list(
        OutgoingMail.objects.filter(status=MailStatus.QUEUED, next_attempt_at__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=now - REENQUEUE_AFTER))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in due:
        OutgoingMail.objects.filter(pk=pk).update(enqueued_at=now)
        _start_delivery(pk)
    return len(due)


def record_bounce(token: str, report: DeliveryReport) -> str:
    """Apply a delivery status notification received for the mail with this bounce token.

    Only a permanent failure (Action: failed, Status 5.x.x) changes anything: the mail becomes
    failed (also when the relay had accepted it) and its notification address failing. Returns
    what happened: "failed", "ignored" (not a permanent failure), "unknown" (no such token) or
    "already failed".
    """
    if not report.is_permanent_failure:
        return "ignored"
    with transaction.atomic():
        mail = OutgoingMail.objects.select_for_update().filter(bounce_token=token).first()
        if mail is None:
            return "unknown"
        if mail.status == MailStatus.FAILED:
            return "already failed"
        reason = report.summary()
        mail.status = MailStatus.FAILED
        mail.failed_at = timezone.now()
        mail.last_error = reason[:500]
        mail.claimed_by = ""
        mail.claimed_until = None
        mail.save(update_fields=["status", "failed_at", "last_error", "claimed_by", "claimed_until"])
        _mail_failed(mail, reason, address_refused=True, actor=BOUNCE_ACTOR)
    logger.info("outbox: bounce for mail %s (%s): %s", mail.pk, mail.purpose, reason)
    return "failed"
