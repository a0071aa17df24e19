"""Types decided by content: magic numbers, ZIP and OLE2 structure, text."""

import pytest

from coffre.intake import filetypes
from coffre.intake.mime import DEFAULT
from coffre.intake.tests import samples


def classify(content, name="file", declared="application/octet-stream"):
    return filetypes.classify(content, name, declared, DEFAULT)


@pytest.mark.parametrize(
    "content, width_height",
    [
        (samples.png(321, 123), (321, 123)),
        (samples.gif(7, 9), (7, 9)),
        (samples.jpeg(800, 600), (800, 600)),
        (
            b"RIFF\x00\x00\x00\x00WEBPVP8X"
            + bytes(8)
            + (99).to_bytes(3, "little")
            + (49).to_bytes(3, "little"),
            (100, 50),
        ),
    ],
)
def test_image_dimensions(content, width_height):
    assert filetypes.image_size(content, filetypes.image_type(content)) == width_height


def test_a_truncated_jpeg_has_no_dimensions():
    assert filetypes.image_size(samples.jpeg()[:12], filetypes.JPEG) is None


def test_pdf_header_within_the_first_kilobyte():
    assert classify(b"\r\n" * 100 + samples.pdf()).file_type is filetypes.PDF
    assert not classify(bytes(1100) + samples.pdf()).accepted


@pytest.mark.parametrize(
    "content, name, declared, expected",
    [
        (b"a,b\n1,2\n", "x.csv", "text/plain", filetypes.CSV),
        (b"a,b\n1,2\n", "x", "text/csv", filetypes.CSV),
        (b"hello", "notes", "text/plain", filetypes.TXT),
        (b"hello", "readme.txt", "application/octet-stream", filetypes.TXT),
        ("\ufeffUTF-16 text".encode("utf-16"), "u.txt", "", filetypes.TXT),
        (
            b"  <?xml version='1.0'?>\n<!-- c --><rsm:CrossIndustryInvoice xmlns:rsm='urn:x'/>",
            "cii",
            "",
            filetypes.XML,
        ),
    ],
)
def test_text_types(content, name, declared, expected):
    assert classify(content, name, declared).file_type is expected


@pytest.mark.parametrize(
    "content, name, declared, code",
    [
        (b"hello", "data.json", "application/json", "unsupported"),
        (b"<p>hi</p>", "x.htm", "text/plain", "active-content"),
        (b"hello", "x", "text/html", "active-content"),
        (b"Set-Content x", "x.ps1", "text/plain", "script"),
        (samples.pdf(), "x.pdf", "application/x-msdownload", "executable"),
        (b"\x00\x01\x02\x03" * 10, "x.txt", "text/plain", "unsupported"),
    ],
)
def test_refused_text(content, name, declared, code):
    assert classify(content, name, declared).code == code


def test_heif_brands_and_avif():
    assert filetypes.image_type(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic") is filetypes.HEIC
    assert filetypes.image_type(b"\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00mif1avifmiaf") is None
