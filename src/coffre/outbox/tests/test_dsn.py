"""Reading delivery status notifications (coffre.outbox.dsn)."""

from coffre.outbox.dsn import read_report
from coffre.outbox.testing import AUTO_REPLY, dsn


def test_a_failed_5xx_report_is_a_permanent_failure():
    report = read_report(dsn())
    assert report.is_permanent_failure
    assert (report.kind, report.status, report.recipient) == ("failed", "5.1.1", "boss@alice.example")
    assert report.diagnostic == "550 5.1.1 <boss@alice.example>: Recipient address rejected: User unknown"
    assert report.summary().startswith("bounce 5.1.1: 550 5.1.1")


def test_a_delay_is_not_a_failure():
    report = read_report(dsn(action="delayed", status="4.4.1", diagnostic="smtp; 451 4.4.1 No answer"))
    assert (report.kind, report.status, report.is_permanent_failure) == ("delayed", "4.4.1", False)


def test_failed_with_a_temporary_status_is_not_permanent():
    assert not read_report(dsn(action="failed", status="4.2.2")).is_permanent_failure


def test_a_success_report_is_not_a_failure():
    assert read_report(dsn(action="delivered", status="2.0.0")).kind == "delivered"


def test_the_failure_wins_over_a_delay_for_another_recipient():
    extra = "\nFinal-Recipient: rfc822; other@alice.example\nAction: delayed\nStatus: 4.4.1\n"
    report = read_report(dsn(action="delayed", status="4.4.1", extra_recipients=extra))
    assert report.kind == "delayed"
    report = read_report(
        dsn(extra_recipients="\nFinal-Recipient: rfc822; x@alice.example\nAction: delayed\nStatus: 4.4.1\n")
    )
    assert report.is_permanent_failure and report.recipient == "boss@alice.example"


def test_an_auto_reply_or_anything_else_is_no_report():
    assert read_report(AUTO_REPLY).kind == "not a report"
    assert read_report(b"").kind == "not a report"
    assert read_report(b"\xff\xfe garbage \x00").kind == "not a report"
    other_report = dsn().replace(b"report-type=delivery-status", b"report-type=disposition-notification")
    assert read_report(other_report).kind == "not a report"


def test_remote_texts_are_cleaned_and_shortened():
    report = read_report(dsn(diagnostic="smtp; 550 " + "x" * 500 + "\x07"))
    assert len(report.diagnostic) == 200 and "\x07" not in report.diagnostic
