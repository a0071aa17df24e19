"""Reading parts tolerantly: headers, payloads, charsets, the bounded policy."""

import base64

from coffre.intake import mimeparts
from coffre.intake.tests import samples


def test_lenient_base64_matches_strict_decoding_on_valid_input():
    for content in (samples.pdf(), samples.png(), b"", b"a", b"ab"):
        assert mimeparts.lenient_base64(base64.encodebytes(content)) == content
    assert mimeparts.lenient_base64(b"QUJD!RA") == b"ABCD"
    assert mimeparts.lenient_base64(b"QUJDR") == b"ABC"


def test_headers_are_decoded_to_one_clean_line_and_cut():
    message = mimeparts.parse(
        b"Subject: =?utf-8?q?Facture_d=C3=A9cembre?=\r\n\tsuite\r\nX-Long: " + b"x" * 10_000 + b"\r\n\r\nbody"
    )

    assert mimeparts.header_text(message, "Subject") == "Facture décembre suite"
    assert len(mimeparts.header_text(message, "X-Long", limit=100_000)) == 4096
    assert mimeparts.header_text(message, "Missing") == ""


def test_structure_headers_are_plain_text():
    message = mimeparts.parse(
        b'Content-Type: multipart/mixed;\r\n boundary="b1"\r\nContent-ID: <Logo@Sig>\r\n\r\n--b1--\r\n'
    )

    assert isinstance(message["Content-Type"], str) and message.get_boundary() == "b1"
    assert mimeparts.content_id(message) == "logo@sig"


def test_text_with_an_unknown_charset_falls_back_and_says_so():
    part = mimeparts.parse(b"Content-Type: text/plain; charset=x-klingon\r\n\r\n")

    assert mimeparts.text(part, "café".encode()) == ("café", "x-klingon")
    assert mimeparts.text(part, "café".encode("cp1252")) == ("café", "x-klingon")


def test_what_looks_like_a_mail():
    assert mimeparts.looks_like_mail(b"From: a@b.be\r\nSubject: x\r\n\r\nhello")
    assert not mimeparts.looks_like_mail(b"just some text\r\n")
    assert not mimeparts.looks_like_mail(samples.pdf())
    assert not mimeparts.looks_like_mail(None)


def test_defects_are_named():
    part = mimeparts.parse(
        b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nQUJDR\r\n"
    )

    assert mimeparts.payload(part) == b"ABC"
    assert [code for code, _message in mimeparts.defects(part)] == ["invalid-base64-length"]
