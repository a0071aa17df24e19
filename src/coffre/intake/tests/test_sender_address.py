"""The From header's address and the envelope's domain."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coffre.intake.sender_address import envelope_domain, normalize_domain, parse_from


def raw(*header_lines: str, body: str = "Hello\r\nFrom: mallory@evil.example\r\n") -> bytes:
    return ("\r\n".join(header_lines) + "\r\n\r\n" + body).encode("utf-8")


@pytest.mark.parametrize("from_header, address, domain", [
    ("Alice Lebrun <alice@fidu-lebrun.be>", "alice@fidu-lebrun.be", "fidu-lebrun.be"),
    ("alice@Fidu-Lebrun.BE", "alice@fidu-lebrun.be", "fidu-lebrun.be"),
    ("\"Lebrun, Alice\" <alice@mail.fidu-lebrun.be> (office)", "alice@mail.fidu-lebrun.be",
     "mail.fidu-lebrun.be"),
    ("=?utf-8?q?Dupr=C3=A9?= <elise@example.be>", "elise@example.be", "example.be"),
    ("Élise <élise@café.be>", "élise@xn--caf-dma.be", "xn--caf-dma.be"),
    ("elise@XN--CAF-DMA.be", "elise@xn--caf-dma.be", "xn--caf-dma.be"),
    ("Bücher <info@bücher.de>", "info@xn--bcher-kva.de", "xn--bcher-kva.de"),
    ("\"john doe\"@example.be", '"john doe"@example.be', "example.be"),
    ("accounts@billing.example.co.uk", "accounts@billing.example.co.uk", "billing.example.co.uk"),
])
def test_the_one_from_address(from_header, address, domain):
    sender = parse_from(raw(f"From: {from_header}", "To: x@coffre.example"))

    assert (sender.address, sender.domain, sender.problem) == (address, domain, None)


@pytest.mark.parametrize("header_lines, problem", [
    (["To: x@coffre.example"], "the message has no From header"),
    (["From: a@fidu-lebrun.be", "From: a@fidu-lebrun.be"], "the message has several From headers"),
    (["From: a@fidu-lebrun.be, b@fidu-lebrun.be"], "the From header holds several addresses"),
    (["From: Team: a@fidu-lebrun.be, b@fidu-lebrun.be;"], "the From header holds several addresses"),
    (["From: undisclosed-recipients:;"], "the From header holds no address"),
    (["From: <>"], "the From header is malformed"),
    (["From: alice"], "the From header is malformed"),
    (["From: A <a@fidu lebrun.be>"], "the From header is malformed"),
    (["From: a@b@fidu-lebrun.be"], "the From header is malformed"),
    (["From: a@[192.0.2.1]"], "the From address has no usable domain"),
    (["From: a@192.0.2.1"], "the From address has no usable domain"),
    (["From: a@localhost"], "the From address has no usable domain"),
    (["From: a@-fidu.be"], "the From address has no usable domain"),
    (["From: a@fidu_lebrun.be"], "the From address has no usable domain"),
    (["From: a@xn--zz.be"], "the From address has no usable domain"),
])
def test_no_usable_from_address(header_lines, problem):
    sender = parse_from(raw(*header_lines))

    assert (sender.address, sender.domain, sender.problem) == (None, None, problem)


def test_several_addresses_are_listed_for_the_log():
    sender = parse_from(raw("From: alice@fidu-lebrun.be, mallory@evil.example"))

    assert sender.addresses == ("alice@fidu-lebrun.be", "mallory@evil.example")


def test_undecodable_header_bytes_do_not_make_an_address():
    sender = parse_from(b"From: alice@caf\xe9.be\r\n\r\nbody")

    assert sender.address is None and sender.problem == "the From address has no usable domain"


def test_a_message_without_body_separator():
    assert parse_from(b"From: alice@fidu-lebrun.be").address == "alice@fidu-lebrun.be"
    assert parse_from(b"").problem == "the message has no From header"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_give_an_answer_not_an_exception(data):
    sender = parse_from(b"From: " + data + b"\r\n\r\n")
    assert (sender.address is None) == (sender.problem is not None)
    if sender.domain is not None:
        assert normalize_domain(sender.domain) == sender.domain


def test_normalize_domain():
    assert normalize_domain("Fidu-Lebrun.BE.") == "fidu-lebrun.be"
    assert normalize_domain("café.be") == "xn--caf-dma.be"
    assert normalize_domain("") is None
    assert normalize_domain("a" * 64 + ".be") is None
    assert normalize_domain("[192.0.2.1]") is None


@pytest.mark.parametrize("mail_from, helo, expected", [
    ("alice@Fidu-Lebrun.be", "mx.example", ("fidu-lebrun.be", "mailfrom")),
    ("<bounce+x=y@bounces.fidu-lebrun.be>", "mx.example", ("bounces.fidu-lebrun.be", "mailfrom")),
    ("", "mx.fidu-lebrun.be", ("mx.fidu-lebrun.be", "helo")),
    ("", "[192.0.2.10]", (None, "helo")),
    ("bounce@café.be", "", ("xn--caf-dma.be", "mailfrom")),
])
def test_envelope_domain(mail_from, helo, expected):
    assert envelope_domain(mail_from, helo) == expected
