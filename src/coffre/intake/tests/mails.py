"""Messages and SMTP clients of the intake's test scenarios."""

# Documentation addresses (RFC 5737): the SMTP clients of the scenarios.
FIDU_MAIL_SERVER = "192.0.2.10"
MAILER_SERVER = "198.51.100.20"
ATTACKER = "203.0.113.66"


def message(from_header: str = "Alice Lebrun <alice@fidu-lebrun.be>", *,
            body: str = "Invoice 2026-001 attached.", extra_headers: str = "") -> bytes:
    """A plain message as a mail client writes it (CRLF line ends, UTF-8 headers allowed)."""
    return (
        f"From: {from_header}\r\n"
        "To: documents-7f3k@coffre.example\r\n"
        "Subject: Invoice January\r\n"
        "Date: Thu, 15 Jan 2026 10:00:00 +0100\r\n"
        "Message-ID: <20260115100000.1@client.example>\r\n"
        f"{extra_headers}"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        f"{body}\r\n"
    ).encode("utf-8")
