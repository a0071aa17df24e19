"""Polling a real Dovecot: delivered once, in order; crashes redeliver; UIDVALIDITY; errors."""

import logging
import sys
from datetime import timedelta

from django.utils import timezone

from coffre.audit.models import AuditRecord
from coffre.intake.imap import poller
from coffre.intake.imap.models import ImapSource
from coffre.intake.imap.tests.conftest import mail


class Sink:
    """A deliver callable that keeps what it got, and fails on the subjects it is told to."""

    def __init__(self, fail_on=()):
        self.received: list[tuple[bytes, poller.PolledEnvelope]] = []
        self.fail_on = set(fail_on)

    def __call__(self, raw, envelope):
        subject = next(line for line in raw.decode().splitlines() if line.startswith("Subject: "))[9:]
        if subject in self.fail_on:
            raise RuntimeError(f"pipeline broke on {subject}")
        self.received.append((raw, envelope))

    @property
    def subjects(self) -> list[str]:
        return [
            next(line for line in raw.decode().splitlines() if line.startswith("Subject: "))[9:]
            for raw, _envelope in self.received
        ]


def test_new_mails_are_delivered_once_in_order(mailbox, add_source, caplog):
    mailbox.append(mail(1), mail(2), mail(3))
    source = add_source(mailbox)
    sink = Sink()
    caplog.set_level(logging.DEBUG)

    first = poller.poll(source.pk, sink)
    second = poller.poll(source.pk, sink)

    assert (first.status, first.delivered, second.status, second.delivered) == ("ok", 3, "ok", 0)
    assert sink.subjects == ["Facture 1", "Facture 2", "Facture 3"]
    source.refresh_from_db()
    assert (source.last_uid, source.delivered, source.failures, source.last_error) == (3, 3, 0, "")
    assert "LOGIN" in caplog.text and mailbox.password not in caplog.text  # imapclient's log, redacted


def test_mails_arriving_later_are_picked_up(mailbox, add_source):
    source = add_source(mailbox)
    sink = Sink()
    poller.poll(source.pk, sink)
    mailbox.append(mail(4))

    assert poller.poll(source.pk, sink).delivered == 1
    assert sink.subjects == ["Facture 4"]


def test_a_crash_redelivers_that_mail_and_not_the_earlier_ones(mailbox, add_source):
    mailbox.append(mail(1), mail(2), mail(3))
    source = add_source(mailbox)

    crashed = poller.poll(source.pk, Sink(fail_on={"Facture 2"}))
    sink = Sink()
    again = poller.poll(source.pk, sink)

    assert (crashed.status, crashed.delivered) == ("error", 1)
    assert (
        "message UID 2, which will be delivered again: RuntimeError: pipeline broke on Facture 2"
        in crashed.error
    )
    assert (again.status, again.delivered) == ("ok", 2)
    assert sink.subjects == ["Facture 2", "Facture 3"]


def test_a_new_uidvalidity_starts_again_from_the_first_mail(mailbox, add_source):
    mailbox.recreate("Factures", mail(1), mail(2))
    source = add_source(mailbox, folder="Factures")
    poller.poll(source.pk, Sink())
    before = ImapSource.objects.get(pk=source.pk).uid_validity
    mailbox.recreate("Factures", mail(7), mail(8))
    sink = Sink()

    result = poller.poll(source.pk, sink)

    assert (result.status, result.delivered, result.uid_validity_changed) == ("ok", 2, True)
    assert sink.subjects == ["Facture 7", "Facture 8"]
    source.refresh_from_db()
    assert source.uid_validity != before and source.last_uid == 2
    change = AuditRecord.objects.get(action="intake.imap_source.uidvalidity_changed")
    assert change.details["previous"] == before and change.details["uid_validity"] == source.uid_validity


def test_a_wrong_password_is_a_clear_error_and_never_shown(mailbox, add_source, caplog):
    wrong = "Wr0ng-" + mailbox.password
    source = add_source(mailbox, password=wrong)
    caplog.set_level(logging.DEBUG)

    result = poller.poll(source.pk, Sink())

    assert result.status == "error"
    assert result.error == (
        f"127.0.0.1:{source.port} refused the login of {mailbox.user}: "
        "[AUTHENTICATIONFAILED] Authentication failed."
    )
    source.refresh_from_db()
    assert (source.last_error, source.failures) == (result.error, 1)
    assert source.next_attempt_at > timezone.now()
    assert "refused the login" in caplog.text
    for text in (
        caplog.text,
        source.last_error,
        repr(result),
        *(str(record.details) for record in AuditRecord.objects.all()),
    ):
        assert wrong not in text and mailbox.password not in text


def test_tls_and_starttls_with_a_private_ca(mailbox, add_source):
    mailbox.append(mail(1))
    over_tls, over_starttls = Sink(), Sink()

    tls = poller.poll(add_source(mailbox, security="tls").pk, over_tls)
    starttls = poller.poll(add_source(mailbox, security="starttls").pk, over_starttls)

    assert (tls.status, tls.delivered, starttls.status, starttls.delivered) == ("ok", 1, "ok", 1)


def test_a_certificate_from_an_unknown_ca_is_refused(mailbox, add_source):
    source = add_source(mailbox, security="tls", ca_certificate="")

    result = poller.poll(source.pk, Sink())

    assert result.status == "error"
    assert result.error.startswith(
        f"TLS with 127.0.0.1:{source.port} failed: the server's certificate is not trusted"
    )


def test_a_closed_port_and_a_missing_folder_are_clear_errors(mailbox, add_source):
    from coffre.testing.imap import _free_port

    closed = add_source(mailbox, port=_free_port(), target="documents-zz")
    missing = add_source(mailbox, folder="Nulle part")

    assert (
        poller.poll(closed.pk, Sink()).error
        == f"cannot connect to 127.0.0.1:{closed.port}: Connection refused"
    )
    assert poller.poll(missing.pk, Sink()).error.startswith("the folder 'Nulle part' cannot be opened: ")


def test_a_batch_at_a_time_and_the_rest_at_once_after(mailbox, add_source, settings):
    settings.COFFRE_IMAP_BATCH = 2
    mailbox.append(mail(1), mail(2), mail(3))
    source = add_source(mailbox)
    sink = Sink()

    first = poller.poll(source.pk, sink, due_only=True)
    source.refresh_from_db()
    assert (first.delivered, first.more) == (2, True) and source.next_attempt_at <= timezone.now()
    second = poller.poll(source.pk, sink, due_only=True)

    assert (second.delivered, second.more) == (1, False)
    assert sink.subjects == ["Facture 1", "Facture 2", "Facture 3"]


def test_a_message_no_intake_could_take_is_skipped_and_recorded(mailbox, add_source, settings):
    mailbox.append(mail(1, **{"X-Padding": "x" * 5000}), mail(2))
    settings.COFFRE_INTAKE_MAX_MESSAGE_SIZE = 4000
    source = add_source(mailbox)
    sink = Sink()

    result = poller.poll(source.pk, sink)

    assert (result.delivered, result.skipped) == (1, 1) and sink.subjects == ["Facture 2"]
    assert AuditRecord.objects.get(action="intake.imap_message.skipped").details["uid"] == 1


def test_the_envelope_comes_from_the_headers_the_mailbox_server_added(mailbox, add_source, settings):
    settings.COFFRE_INTAKE_DOMAIN = "intake.coffre.example"
    mailbox.append(mail(1), mail(2, **{"Return-Path": "<>", "Received": "by local (Postfix)"}))
    sink = Sink()

    poller.poll(add_source(mailbox).pk, sink)

    assert [envelope for _raw, envelope in sink.received] == [
        poller.PolledEnvelope(
            "bounce@sender.example",
            ("documents-k7q2@intake.coffre.example",),
            "192.0.2.25",
            "mx.sender.example",
            "imap",
        ),
        poller.PolledEnvelope("", ("documents-k7q2@intake.coffre.example",), "0.0.0.0", "", "imap"),
    ]


def test_the_poll_hands_each_mail_to_the_intake_pipeline(mailbox, add_source, monkeypatch):
    from coffre.intake import pipeline

    received = []
    monkeypatch.setattr(pipeline, "receive", lambda raw, envelope: received.append((raw, envelope)))
    mailbox.append(mail(1))
    source = add_source(mailbox)

    assert poller.poll(source.pk).status == "ok"
    [(_raw, envelope)] = received
    assert isinstance(envelope, pipeline.Envelope)
    assert envelope.received_via == "imap"


def test_a_claimed_source_is_not_polled_twice(mailbox, add_source):
    source = add_source(mailbox)
    ImapSource.objects.filter(pk=source.pk).update(
        claimed_by="other", claimed_until=timezone.now() + timedelta(minutes=5)
    )

    assert poller.poll(source.pk, Sink()).status == "busy"
    ImapSource.objects.filter(pk=source.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    assert poller.poll(source.pk, Sink()).status == "ok"


def test_the_periodic_poll_waits_for_the_backoff(mailbox, add_source, settings, monkeypatch):
    from coffre.intake.imap import tasks

    sink = Sink()
    settings.COFFRE_IMAP_DELIVER = "coffre.intake.imap.tests.test_poller.SINK"
    monkeypatch.setattr(sys.modules[__name__], "SINK", sink, raising=False)
    broken = add_source(mailbox, password="not-it", target="documents-aa")
    working = add_source(mailbox, folder="Factures")
    mailbox.recreate("Factures", mail(5))

    assert tasks.poll_due_sources.call() == 2
    assert tasks.poll_due_sources.call() == 0  # both wait: one its interval, the other its backoff
    ImapSource.objects.filter(pk=broken.pk).update(next_attempt_at=timezone.now())
    assert tasks.poll_due_sources.call() == 1
    broken.refresh_from_db()
    working.refresh_from_db()
    assert (broken.failures, working.failures, working.delivered) == (2, 0, 1)
    assert sink.subjects == ["Facture 5"]


def test_retry_delay_doubles_up_to_the_maximum(settings):
    from coffre.intake.imap.services import retry_delay

    settings.COFFRE_IMAP_POLL_INTERVAL, settings.COFFRE_IMAP_RETRY_MAX = 100, 1000
    for failures, nominal in ((1, 100), (2, 200), (4, 800), (5, 1000), (40, 1000)):
        assert nominal * 0.75 <= retry_delay(failures).total_seconds() <= nominal


def test_an_intake_that_cannot_be_loaded_is_a_clear_error(mailbox, add_source, settings):
    settings.COFFRE_IMAP_DELIVER = "coffre.intake.nowhere.receive"
    source = add_source(mailbox)

    result = poller.poll(source.pk)

    assert result.status == "error"
    assert result.error.startswith("the intake coffre.intake.nowhere.receive cannot be loaded: ")
    assert ImapSource.objects.get(pk=source.pk).claimed_by == ""


def test_a_received_header_without_a_valid_address_is_passed_over(settings):
    settings.COFFRE_INTAKE_DOMAIN = "intake.coffre.example"
    raw = (
        b"Received: from forged.example (forged.example [999.1.2.3]) by mx\r\n"
        b"Received: from mx.sender.example (mx.sender.example [192.0.2.25]) by mx\r\n"
        b"From: a@sender.example\r\n\r\nbody\r\n"
    )
    envelope = poller.envelope_of(raw, "documents-k7q2")
    assert (envelope.client_ip, envelope.helo) == ("192.0.2.25", "mx.sender.example")
    assert poller.envelope_of(b"Received: from x ([1.2.3]) by y\r\n\r\n", "t").client_ip == "0.0.0.0"
