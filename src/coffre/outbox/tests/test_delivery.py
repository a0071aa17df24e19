"""Delivery through a real SMTP relay (aiosmtpd): retries, permanent refusals, claims, VERP.

Each test starts the relay with a script of answers (e.g. 451 then 250) and lets
``services.deliver`` talk to it through Django's SMTP backend; the clock is the test's.
"""

import email
import email.policy
import threading
from datetime import timedelta

import pytest

from coffre.audit.models import AuditRecord
from coffre.outbox import services
from coffre.outbox.models import MailStatus, OutgoingMail
from coffre.outbox.tests.conftest import NOTIFIED, queue
from coffre.testing.live import free_port
from coffre.testing.smtp import relay_settings


def parsed(data: bytes):
    return email.message_from_bytes(data, policy=email.policy.default)


def test_a_temporary_refusal_keeps_the_mail_queued_then_it_leaves_with_the_same_message_id(
    db, clock, relay
):
    server = relay(data=["451 4.3.0 Mailbox busy, try again later"])
    mail = queue()
    start = clock.now()

    assert services.deliver(mail.pk) == MailStatus.QUEUED
    mail.refresh_from_db()
    assert (mail.status, mail.attempts) == (MailStatus.QUEUED, 1)
    assert mail.last_error == "SMTP 451 4.3.0 Mailbox busy, try again later"
    # The first retry comes after 45 to 60 seconds (one minute less up to 25 % jitter).
    assert start + timedelta(seconds=45) <= mail.next_attempt_at <= start + timedelta(seconds=60)

    # Not due yet: nothing is offered to the relay.
    assert services.deliver(mail.pk) == MailStatus.QUEUED
    assert len(server.data_attempts) == 1

    clock.shift(timedelta(seconds=61))
    assert services.deliver(mail.pk) == MailStatus.SENT
    mail.refresh_from_db()
    assert (mail.status, mail.attempts, mail.last_error) == (MailStatus.SENT, 2, "")
    assert [parsed(data)["Message-ID"] for data in server.data_attempts] == [mail.message_id, mail.message_id]
    assert [received.rcpt_tos for received in server.received] == [("alice@example.be",)]


def test_a_relay_that_cannot_be_reached_is_a_temporary_failure(db, clock, settings):
    relay_settings(settings, free_port())  # nothing listens there
    mail = queue()
    assert services.deliver(mail.pk) == MailStatus.QUEUED
    mail.refresh_from_db()
    assert mail.status == MailStatus.QUEUED and mail.attempts == 1
    assert mail.last_error == "ConnectionRefusedError: Connection refused"


def test_retries_back_off_exponentially_up_to_six_hours(db, clock, settings):
    relay_settings(settings, free_port())
    mail = queue()
    waits = []
    for _ in range(12):
        before = clock.now()
        services.deliver(mail.pk)
        mail.refresh_from_db()
        waits.append((mail.next_attempt_at - before).total_seconds())
        clock.move_to(mail.next_attempt_at)
    nominal = [min(60 * 2**n, 6 * 3600) for n in range(12)]
    assert all(0.75 * expected <= wait <= expected for wait, expected in zip(waits, nominal, strict=True))
    assert mail.attempts == 12 and mail.status == MailStatus.QUEUED  # never dropped


def test_a_failed_login_is_temporary_and_its_password_is_not_recorded(db, clock, relay, caplog):
    relay(auth=True, user="coffre", password="S3cret-relay-password")
    mail = queue()
    assert services.deliver(mail.pk) == MailStatus.QUEUED
    mail.refresh_from_db()
    assert mail.last_error.startswith("login to the relay failed: SMTP 535")
    assert "S3cret" not in mail.last_error
    assert "S3cret" not in caplog.text


def test_a_refused_recipient_fails_the_mail_and_marks_the_notification_address_failing(
    db, clock, relay, ebox
):
    relay(rcpt=["550 5.1.1 <boss@alice.example>: Recipient address rejected: User unknown"])
    mail = queue(to=NOTIFIED, ebox=ebox)

    assert services.deliver(mail.pk) == MailStatus.FAILED
    mail.refresh_from_db()
    assert (mail.status, mail.attempts) == (MailStatus.FAILED, 1)
    assert "550 5.1.1" in mail.last_error
    ebox.refresh_from_db()
    assert ebox.notification_status == "failing"
    assert "User unknown" in ebox.notification_failure
    actions = list(AuditRecord.objects.values_list("action", flat=True))
    assert "outbox.mail.failed" in actions and "ebox.notificationAddress.failing" in actions

    # A failed mail is never tried again.
    clock.shift(timedelta(days=1))
    assert services.deliver(mail.pk) == MailStatus.FAILED
    assert services.enqueue_due() == 0


def test_a_refusal_for_an_address_no_longer_in_use_leaves_the_e_box_alone(db, clock, relay, ebox):
    relay(rcpt=["550 5.1.1 User unknown"])
    mail = queue(to="previous@alice.example", ebox=ebox)
    assert services.deliver(mail.pk) == MailStatus.FAILED
    ebox.refresh_from_db()
    assert (ebox.notification_status, ebox.notification_failure) == ("verified", "")


def test_a_content_refusal_at_data_fails_the_mail_but_not_the_address(db, clock, relay, ebox):
    relay(data=["554 5.7.1 Message rejected as spam"])
    mail = queue(to=NOTIFIED, ebox=ebox)
    assert services.deliver(mail.pk) == MailStatus.FAILED
    ebox.refresh_from_db()
    assert ebox.notification_status == "verified"


def test_a_mailbox_refusal_at_data_marks_the_address(db, clock, relay, ebox):
    relay(data=["550 5.2.1 Mailbox disabled"])
    mail = queue(to=NOTIFIED, ebox=ebox)
    assert services.deliver(mail.pk) == MailStatus.FAILED
    ebox.refresh_from_db()
    assert ebox.notification_status == "failing"


def test_a_temporary_refusal_of_the_recipient_does_not_touch_the_address(db, clock, relay, ebox):
    relay(rcpt=["452 4.2.2 Mailbox full"])
    mail = queue(to=NOTIFIED, ebox=ebox)
    assert services.deliver(mail.pk) == MailStatus.QUEUED
    ebox.refresh_from_db()
    assert ebox.notification_status == "verified"


def test_a_claimed_mail_is_not_handed_over_twice_and_a_dead_workers_claim_expires(db, clock, relay):
    server = relay()
    mail = queue()
    claim = services.claim_mail(mail.pk)  # another worker holds it (and then dies)
    assert claim is not None
    assert services.claim_mail(mail.pk) is None
    assert services.deliver(mail.pk) == MailStatus.QUEUED
    assert server.data_attempts == []

    clock.shift(services.DELIVERY_LEASE + timedelta(seconds=1))
    assert services.deliver(mail.pk) == MailStatus.SENT
    assert len(server.received) == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_hand_the_mail_over_once(relay):
    server = relay()
    mail = queue()
    start = threading.Barrier(2)
    outcomes = []

    def worker():
        start.wait()
        try:
            outcomes.append(services.deliver(mail.pk))
        finally:
            from django.db import connection

            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    # The loser either found the claim taken ("queued") or the mail already sent.
    assert len(outcomes) == 2 and MailStatus.SENT in outcomes
    assert len(server.received) == 1
    assert OutgoingMail.objects.get(pk=mail.pk).attempts == 1


def test_the_envelope_sender_is_the_mails_bounce_address_and_from_stays(db, clock, relay, settings):
    settings.COFFRE_BOUNCE_DOMAIN = "bounces.coffre.test"
    server = relay()
    mail = queue()
    services.deliver(mail.pk)
    [received] = server.received
    assert received.mail_from == f"bounces+{mail.bounce_token}@bounces.coffre.test"
    assert len(mail.bounce_token) == 32
    message = parsed(received.data)
    assert message["From"] == settings.DEFAULT_FROM_EMAIL
    assert message["To"] == "alice@example.be"


def test_without_a_bounce_domain_the_envelope_sender_is_the_from_address(db, clock, relay, settings):
    settings.COFFRE_BOUNCE_DOMAIN = ""
    server = relay()
    services.deliver(queue().pk)
    assert server.received[0].mail_from == "no-reply@coffre.localhost"
