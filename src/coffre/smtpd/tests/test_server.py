"""Coffre's SMTP server, running (in a thread of the test), spoken to by a real client (smtplib).

The routes handle messages in the server's own worker thread and database connection, so these
tests commit their data (``transactional_db``).
"""

import logging
import smtplib

import pytest

from coffre.mailbox.models import Ebox
from coffre.outbox import services as outbox
from coffre.outbox.models import MailStatus, OutgoingMail
from coffre.outbox.testing import AUTO_REPLY, dsn
from coffre.outbox.tests.conftest import NOTIFIED, queue
from coffre.smtpd.routes import Route, TemporaryFailure
from coffre.smtpd.server import Handler, start_server
from coffre.testing.live import listening_socket
from coffre.testing.smtp import ServerThread

BOUNCE_DOMAIN = "bounces.coffre.test"


@pytest.fixture
def smtpd(settings, transactional_db):
    """``smtpd(handler=None)``: Coffre's server listening on 127.0.0.1; yields a client factory."""
    settings.COFFRE_BOUNCE_DOMAIN = BOUNCE_DOMAIN
    settings.COFFRE_SMTPD_MAX_MESSAGE_SIZE = 64 * 1024
    settings.COFFRE_SMTPD_MAX_RECIPIENTS = 3
    running = []

    def start(handler: Handler | None = None):
        sock = listening_socket()
        server = ServerThread(lambda: start_server(handler, sock=sock)).__enter__()
        running.append(server)
        return lambda: smtplib.SMTP("127.0.0.1", server.port, timeout=30)

    yield start
    for server in running:
        server.__exit__(None, None, None)


@pytest.fixture
def sent_notification(ebox, mailoutbox):
    """A notification of enterprise A's e-Box, sent (the relay took it)."""
    mail = queue(to=NOTIFIED, ebox=ebox)
    assert outbox.deliver(mail.pk) == MailStatus.SENT
    return mail


def bounce_address(mail: OutgoingMail) -> str:
    return f"bounces+{mail.bounce_token}@{BOUNCE_DOMAIN}"


def test_a_bounce_fails_the_mail_and_marks_the_notification_address(smtpd, sent_notification):
    connect = smtpd()
    with connect() as client:
        address = bounce_address(sent_notification)
        refused = client.sendmail("", [address], dsn(to=address))
    assert refused == {}
    sent_notification.refresh_from_db()
    assert sent_notification.status == MailStatus.FAILED
    assert sent_notification.last_error.startswith("bounce 5.1.1")
    ebox = Ebox.objects.get(pk=sent_notification.ebox_id)
    assert ebox.notification_status == "failing"


def test_another_recipient_is_refused_with_a_clear_answer(smtpd, sent_notification):
    connect = smtpd()
    with connect() as client:
        client.ehlo("mx.example")
        client.mail("")
        code, text = client.rcpt("postmaster@coffre.test")
        assert code == 550
        assert b"only takes bounces of the mail Coffre sent" in text
        code, _ = client.rcpt(f"bounces@{BOUNCE_DOMAIN}")  # a bounce address needs a token
        assert code == 550
        client.rset()
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            client.sendmail("", ["someone@elsewhere.test"], b"Subject: hi\r\n\r\nhello\r\n")


def test_an_unknown_token_is_accepted_and_ignored(smtpd, sent_notification, caplog):
    connect = smtpd()
    caplog.set_level(logging.INFO, logger="coffre.smtpd")
    unknown = f"bounces+{'0' * 32}@{BOUNCE_DOMAIN}"
    with connect() as client:
        assert client.sendmail("", [unknown], dsn(to=unknown)) == {}
    assert "bounce to token 00000000… from 127.0.0.1 (failed 5.1.1): unknown" in caplog.text
    assert "0" * 32 not in caplog.text
    sent_notification.refresh_from_db()
    assert sent_notification.status == MailStatus.SENT


def test_delay_notices_and_auto_replies_change_nothing(smtpd, sent_notification):
    connect = smtpd()
    address = bounce_address(sent_notification)
    with connect() as client:
        client.sendmail("", [address], dsn(action="delayed", status="4.4.1", to=address))
        client.sendmail("boss@alice.example", [address], AUTO_REPLY)
    sent_notification.refresh_from_db()
    assert sent_notification.status == MailStatus.SENT
    assert Ebox.objects.get(pk=sent_notification.ebox_id).notification_status == "verified"


def test_the_limits_on_recipients_and_size(smtpd, sent_notification):
    connect = smtpd()
    address = bounce_address(sent_notification)
    with connect() as client:
        client.ehlo("mx.example")
        client.mail("")
        assert [client.rcpt(address)[0] for _ in range(4)] == [250, 250, 250, 452]
        client.rset()
        with pytest.raises(smtplib.SMTPResponseException) as refused:
            client.sendmail("", [address], dsn(to=address) + b"x" * (65 * 1024))
        assert refused.value.smtp_code == 552
    sent_notification.refresh_from_db()
    assert sent_notification.status == MailStatus.SENT


class Broken(Route):
    name = "broken"

    def accepts(self, recipient: str) -> bool:
        return True

    def handle(self, delivery) -> None:
        raise TemporaryFailure("the database is away")


def test_a_message_that_cannot_be_handled_now_is_deferred_not_lost(smtpd):
    connect = smtpd(Handler(routes=[Broken()]))
    with connect() as client, pytest.raises(smtplib.SMTPDataError) as deferred:
        client.sendmail("", ["anyone@coffre.test"], b"Subject: x\r\n\r\nx\r\n")
    assert deferred.value.smtp_code == 451
