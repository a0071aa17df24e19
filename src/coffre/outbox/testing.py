"""Delivery status notifications as mail servers write them (RFC 3464), for the tests of the
outbox and of ``coffre smtpd``."""


def dsn(
    *,
    action: str = "failed",
    status: str = "5.1.1",
    recipient: str = "boss@alice.example",
    diagnostic: str = "smtp; 550 5.1.1 <boss@alice.example>: Recipient address rejected: User unknown",
    to: str = "bounces+token@bounces.coffre.test",
    extra_recipients: str = "",
) -> bytes:
    """A DSN as Postfix writes it: explanation, delivery-status, and the returned headers."""
    return f"""Return-Path: <>
From: MAILER-DAEMON@relay.example (Mail Delivery System)
To: {to}
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
    boundary="B0UNDARY/relay.example"

This is a MIME-encapsulated message.

--B0UNDARY/relay.example
Content-Type: text/plain; charset=us-ascii

This is the mail system at host relay.example. I'm sorry to have to inform you that your
message could not be delivered to one or more recipients.

--B0UNDARY/relay.example
Content-Type: message/delivery-status

Reporting-MTA: dns; relay.example
X-Postfix-Queue-ID: 4ABCD1234
Arrival-Date: Thu, 15 Jan 2026 10:00:00 +0100 (CET)

Final-Recipient: rfc822; {recipient}
Original-Recipient: rfc822;{recipient}
Action: {action}
Status: {status}
Remote-MTA: dns; mx.alice.example
Diagnostic-Code: {diagnostic}
{extra_recipients}
--B0UNDARY/relay.example
Content-Type: text/rfc822-headers

From: Coffre <no-reply@coffre.localhost>
To: {recipient}
Subject: Nouveau document

--B0UNDARY/relay.example--
""".replace("\n", "\r\n").encode()


AUTO_REPLY = b"""From: boss@alice.example
To: bounces+token@bounces.coffre.test
Subject: Out of office
Auto-Submitted: auto-replied
Content-Type: text/plain

I am away until Monday.
""".replace(b"\n", b"\r\n")
