"""The outbox: a mail is queued once per key, in the transaction that decided it, and delivered once."""

import pytest
from django.db import transaction

from coffre.outbox import services
from coffre.outbox.models import MailStatus, OutgoingMail

PREFIX = "accounts/mail/verify_email"
CONTEXT = {"link": "https://coffre.example/verify/abc", "reset_link": "https://coffre.example/reset", "days": 3}


def queue(key="k1", to="alice@example.be"):
    return services.queue_mail(key=key, purpose="test", to=to, prefix=PREFIX, context=CONTEXT, language="fr")


@pytest.mark.django_db(transaction=True)
def test_a_key_is_queued_once_and_delivered_once(mailoutbox):
    with transaction.atomic():
        mail, created = queue()
    again, created_again = queue()
    assert (created, created_again) == (True, False)
    assert again.pk == mail.pk
    assert services.deliver(mail.pk) == MailStatus.SENT
    assert services.deliver(mail.pk) == MailStatus.SENT  # a repeated task hands nothing over again
    assert len(mailoutbox) == 1
    sent = mailoutbox[0]
    assert sent.to == ["alice@example.be"]
    assert sent.extra_headers["Message-ID"] == mail.message_id
    mail.refresh_from_db()
    assert (mail.status, mail.attempts) == (MailStatus.SENT, 1)


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_queues_nothing(mailoutbox):
    with pytest.raises(RuntimeError), transaction.atomic():
        queue()
        raise RuntimeError("the change failed")
    assert not OutgoingMail.objects.exists()
    assert mailoutbox == []


# --- the sweep ------------------------------------------------------------------------------------

from datetime import timedelta  # noqa: E402

from django_tasks_db.models import DBTaskResult  # noqa: E402

from coffre.audit.models import AuditRecord  # noqa: E402
from coffre.core.mail import send_templated_mail  # noqa: E402
from coffre.outbox.dsn import read_report  # noqa: E402
from coffre.outbox.testing import dsn  # noqa: E402
from coffre.outbox.tests.conftest import NOTIFIED  # noqa: E402
from coffre.outbox.tests.conftest import queue as queue_for  # noqa: E402


def delivery_tasks() -> list[list]:
    return [
        result.args_kwargs["args"]
        for result in DBTaskResult.objects.filter(task_path="coffre.outbox.tasks.deliver_mail").order_by("id")
    ]


def test_the_sweep_enqueues_due_mail_once_and_again_when_its_task_was_lost(db, clock):
    due = queue_for("due")
    later = queue_for("later")
    sent = queue_for("sent")
    OutgoingMail.objects.filter(pk=due.pk).update(enqueued_at=None)  # its task was never enqueued
    OutgoingMail.objects.filter(pk=later.pk).update(
        enqueued_at=None, next_attempt_at=clock.now() + timedelta(hours=1)
    )
    OutgoingMail.objects.filter(pk=sent.pk).update(enqueued_at=None, status=MailStatus.SENT)

    assert services.enqueue_due() == 1
    assert delivery_tasks() == [[due.pk]]
    assert services.enqueue_due() == 0  # its task is on its way

    clock.shift(services.REENQUEUE_AFTER + timedelta(seconds=1))  # ... and was lost
    assert services.enqueue_due() == 1
    assert delivery_tasks() == [[due.pk], [due.pk]]

    clock.shift(timedelta(hours=1))
    assert services.enqueue_due() == 2  # the later one is due now, the first lost again


def test_the_sweep_leaves_a_claimed_mail_to_its_worker(db, clock):
    mail = queue_for()
    OutgoingMail.objects.filter(pk=mail.pk).update(enqueued_at=None)
    assert services.claim_mail(mail.pk)
    assert services.enqueue_due() == 0
    clock.shift(services.DELIVERY_LEASE + timedelta(seconds=1))  # the worker died
    assert services.enqueue_due() == 1


def test_the_sweep_is_a_periodic_task():
    from django.conf import settings

    tasks = {entry["task"] for entry in settings.COFFRE_PERIODIC_TASKS.values()}
    assert "coffre.outbox.tasks.enqueue_due_mail" in tasks


# --- bounces --------------------------------------------------------------------------------------


def test_a_bounce_fails_a_sent_mail_and_marks_the_notification_address(db, clock, ebox, mailoutbox):
    mail = queue_for(to=NOTIFIED, ebox=ebox)
    assert services.deliver(mail.pk) == MailStatus.SENT

    assert services.record_bounce(mail.bounce_token, read_report(dsn())) == "failed"
    mail.refresh_from_db()
    assert mail.status == MailStatus.FAILED and mail.last_error.startswith("bounce 5.1.1")
    ebox.refresh_from_db()
    assert ebox.notification_status == "failing"
    assert ebox.notification_failure.startswith("bounce 5.1.1: 550 5.1.1")
    failing = AuditRecord.objects.get(action="ebox.notificationAddress.failing")
    assert failing.actor == "smtpd.bounce" and NOTIFIED not in str(failing.details)

    # The same bounce again changes nothing.
    assert services.record_bounce(mail.bounce_token, read_report(dsn())) == "already failed"
    assert AuditRecord.objects.filter(action="ebox.notificationAddress.failing").count() == 1


def test_a_delay_notice_or_an_unknown_token_changes_nothing(db, clock, ebox, mailoutbox):
    mail = queue_for(to=NOTIFIED, ebox=ebox)
    services.deliver(mail.pk)
    delayed = read_report(dsn(action="delayed", status="4.4.1"))
    assert services.record_bounce(mail.bounce_token, delayed) == "ignored"
    assert services.record_bounce("0" * 32, read_report(dsn())) == "unknown"
    mail.refresh_from_db()
    ebox.refresh_from_db()
    assert (mail.status, ebox.notification_status) == (MailStatus.SENT, "verified")


def test_a_confirmed_address_is_no_longer_failing(
    db, clock, ebox, mailoutbox, django_capture_on_commit_callbacks
):
    from coffre.audit.services import Actor
    from coffre.mailbox import services_management as management

    mail = queue_for(to=NOTIFIED, ebox=ebox)
    services.deliver(mail.pk)
    services.record_bounce(mail.bounce_token, read_report(dsn()))
    ebox.refresh_from_db()
    assert ebox.notification_status == "failing"
    actor = Actor(kind="web", name="alice@example.be")
    with django_capture_on_commit_callbacks(execute=True):
        management.request_address_change(
            ebox, NOTIFIED, requested_by="alice@example.be", actor=actor, language="en",
            link_for=lambda token: f"https://coffre.example/confirm/{token}/",
        )
    token = mailoutbox[-1].body.split("https://coffre.example/confirm/", 1)[1].split("/", 1)[0]
    management.confirm_address(token, ebox.enterprise.cbe, actor=actor)
    ebox.refresh_from_db()
    assert (ebox.notification_status, ebox.notification_failure) == ("verified", "")


# --- the portal's mails ---------------------------------------------------------------------------


def test_the_portals_mails_go_through_the_outbox_and_leave_after_commit(
    db, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        send_templated_mail(
            ["ann@example.be", "bob@example.be"], PREFIX, CONTEXT, "fr", reply_to=["help@example.be"]
        )
        assert mailoutbox == []
    mails = list(OutgoingMail.objects.order_by("id"))
    assert [(mail.to_address, mail.purpose, mail.status) for mail in mails] == [
        ("ann@example.be", "verify_email", MailStatus.SENT),
        ("bob@example.be", "verify_email", MailStatus.SENT),
    ]
    assert [sent.to for sent in mailoutbox] == [["ann@example.be"], ["bob@example.be"]]
    assert mailoutbox[0].reply_to == ["help@example.be"]
    assert mailoutbox[0].extra_headers["Message-ID"] == mails[0].message_id


def test_a_portal_mail_the_relay_cannot_take_now_is_kept_for_the_retries(
    db, clock, relay, django_capture_on_commit_callbacks
):
    server = relay(rcpt=["421 4.7.0 Too busy"])
    with django_capture_on_commit_callbacks(execute=True):
        send_templated_mail(["ann@example.be"], PREFIX, CONTEXT, "fr")
    mail = OutgoingMail.objects.get()
    assert (mail.status, mail.attempts) == (MailStatus.QUEUED, 1)
    clock.shift(timedelta(minutes=2))
    assert services.enqueue_due() == 1
    [[pk]] = delivery_tasks()
    assert services.deliver(pk) == MailStatus.SENT
    assert len(server.received) == 1


def test_a_rolled_back_portal_mail_is_not_kept(db, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            send_templated_mail(["ann@example.be"], PREFIX, CONTEXT, "fr")
            raise RuntimeError("the change failed")
    assert not OutgoingMail.objects.exists() and mailoutbox == []
