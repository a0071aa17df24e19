"""Fuzzing ``extract``: generated MIME structures and random bytes never make it raise, and what it
hands out always stays within its limits, with safe names and accepted types (hypothesis)."""

import base64
import hashlib
import os
import quopri
import unicodedata
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coffre.intake import filetypes
from coffre.intake.filenames import safe_filename
from coffre.intake.mime import DEFAULT, MAX_PROBLEMS, Extraction, extract
from coffre.intake.tests import samples

ACCEPTED_MEDIA_TYPES = {file_type.media_type: file_type for file_type in filetypes.ACCEPTED}
RESERVED = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    *(f"COM{n}" for n in range(1, 10)),
    *(f"LPT{n}" for n in range(1, 10)),
}
# Small limits, so that generated mails reach them.
LIMITS = replace(
    DEFAULT,
    max_documents=4,
    max_file_size=64 * 1024,
    max_forward_depth=2,
    max_parts=40,
    archive_max_entries=20,
    archive_max_size=256 * 1024,
    archive_max_ratio=50,
)
# COFFRE_FUZZ_EXAMPLES=5000 searches longer (the suite keeps it short).
FUZZ = settings(
    max_examples=int(os.environ.get("COFFRE_FUZZ_EXAMPLES", "250")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

CONTENTS = [
    samples.pdf(),
    samples.png(),
    samples.png(300, 300),
    samples.gif(),
    samples.jpeg(),
    samples.docx(),
    samples.docx(macro=True),
    samples.xlsx(),
    samples.odt(),
    samples.doc(),
    samples.msi(),
    samples.pe(),
    samples.elf(),
    samples.plain_zip(),
    samples.zip_bomb(1),
    samples.encrypted_zip(),
    samples.plain_zip({"x.zip": samples.plain_zip()}),
    b"#!/bin/sh\n",
    b"<svg/>",
    b"hello, world\n",
    "caf\u00e9 \u20ac".encode("cp1252"),
    b"<?xml version='1.0'?><Invoice/>",
    b"",
]
CONTENT_TYPES = [
    "application/pdf",
    "application/octet-stream",
    "image/png",
    "image/jpeg",
    "text/plain",
    "text/html",
    "text/csv",
    "application/zip",
    "message/rfc822",
    "application/pkcs7-signature",
    "application/pkcs7-mime",
    "multipart/mixed",
    "x-bad",
    "",
    'text/plain; charset="',
    "application/vnd.ms-excel",
]
CHARSETS = ["utf-8", "iso-8859-1", "x-klingon", "utf-16", "", "cp1252", "us-ascii", "gb2312", "'"]
ENCODINGS = ["7bit", "8bit", "base64", "quoted-printable", "binary", "x-uuencode", "bogus", ""]
DISPOSITIONS = ["attachment", "inline", "", "form-data", "attachment; filename*=utf-8''%E2%80%AE%2E%2E"]
name_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=40) | st.sampled_from(
    [
        "../../etc/passwd",
        "C:\\x\\y.exe",
        "CON",
        "a\x00b.pdf",
        "fact\u202efdp.exe",
        ".",
        "..",
        " .pdf",
        "x" * 300 + ".pdf",
        "lpt1.txt",
        "invoice.pdf.exe",
        "mail.eml",
        "\u0000",
        "=?utf-8?q?caf=C3=A9?=.pdf",
    ]
)


def _encode(content: bytes, encoding: str, corrupt: bool) -> bytes:
    if encoding == "base64":
        encoded = base64.encodebytes(content)
        return encoded[:-3] + b"!*" if corrupt and len(encoded) > 3 else encoded
    if encoding == "quoted-printable":
        encoded = quopri.encodestring(content)
        return encoded + b"=Z" if corrupt else encoded
    return content


@st.composite
def leaf(draw) -> bytes:
    content = draw(st.sampled_from(CONTENTS) | st.binary(max_size=300))
    content_type = draw(st.sampled_from(CONTENT_TYPES))
    encoding = draw(st.sampled_from(ENCODINGS))
    headers = []
    if content_type:
        charset = draw(st.sampled_from(CHARSETS))
        headers.append(
            f"Content-Type: {content_type}"
            + (f"; charset={charset}" if charset else "")
            + (f'; name="{draw(name_text)}"' if draw(st.booleans()) else "")
        )
    if encoding:
        headers.append(f"Content-Transfer-Encoding: {encoding}")
    disposition = draw(st.sampled_from(DISPOSITIONS))
    if disposition:
        filename = draw(name_text)
        headers.append(f'Content-Disposition: {disposition}; filename="{filename}"')
    if draw(st.booleans()):
        headers.append(f"Content-ID: <{draw(st.sampled_from(['logo@sig', 'x', '']))}>")
    head = "\r\n".join(headers).encode("utf-8", "surrogateescape")
    return head + b"\r\n\r\n" + _encode(content, encoding, draw(st.booleans()))


def _multipart(children: list[bytes], boundary: str, subtype: str, close: bool, skew: bool) -> bytes:
    head = f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n\r\n'.encode()
    used = (boundary + "x") if skew else boundary
    body = b"".join(b"--" + used.encode() + b"\r\n" + child + b"\r\n" for child in children)
    return head + b"preamble\r\n" + body + (b"--" + used.encode() + b"--\r\n" if close else b"")


@st.composite
def container(draw, inner) -> bytes:
    kind = draw(st.sampled_from(["multipart", "multipart", "rfc822"]))
    if kind == "rfc822":
        return b"Content-Type: message/rfc822\r\n\r\n" + draw(message_of(inner))
    children = draw(st.lists(inner, min_size=0, max_size=4))
    boundary = draw(st.text(alphabet="abcXYZ019'()+_,-./:=? ", min_size=1, max_size=20))
    return _multipart(
        children,
        boundary,
        draw(st.sampled_from(["mixed", "alternative", "related", "signed", "encrypted", "digest"])),
        draw(st.booleans()),
        draw(st.integers(0, 9)) == 0,
    )


def message_of(body):
    @st.composite
    def build(draw) -> bytes:
        subject = draw(
            st.text(max_size=30)
            | st.sampled_from(["=?utf-8?b?!!!?=", "=?x-bad?q?caf=E9?=", "=?utf-8?q?Factur=C3=A9?="])
        )
        headers = (
            f"From: {draw(st.sampled_from(['a@b.be', 'Bad <', '=?utf-8?q?=C3=A9?= <e@x.be>', '']))}\r\n"
            f"Subject: {subject}\r\nMessage-ID: <{draw(st.text(max_size=10))}@x>\r\nMIME-Version: 1.0\r\n"
        )
        return headers.encode("utf-8", "surrogateescape") + draw(body)

    return build()


mime_tree = st.recursive(leaf(), lambda inner: container(inner), max_leaves=12)


def assert_within_bounds(extraction: Extraction, limits=LIMITS) -> None:
    assert isinstance(extraction, Extraction)
    assert len(extraction.documents) <= limits.max_documents
    assert len(extraction.problems) <= MAX_PROBLEMS + 1
    assert len(extraction.subject) <= 255
    for text in (extraction.subject, extraction.from_header, extraction.message_id):
        text.encode("utf-8")  # no lone surrogates
    names = set()
    for document in extraction.documents:
        file_type = ACCEPTED_MEDIA_TYPES[document.media_type]
        assert 0 < document.size <= limits.max_file_size
        assert document.sha256 == hashlib.sha256(document.content).hexdigest()
        assert_safe_name(document.filename, file_type, limits.max_name_length)
        assert document.filename.lower() not in names
        names.add(document.filename.lower())
        if file_type is not filetypes.TXT or document.origin != "body":
            verdict = filetypes.classify(document.content, document.filename, "", limits)
            assert verdict.accepted and verdict.file_type == file_type
    for problem in extraction.problems:
        problem.message.encode("utf-8")
        problem.filename.encode("utf-8")


def assert_safe_name(name: str, file_type: filetypes.FileType, max_length: int) -> None:
    assert 0 < len(name) <= max_length and len(name.encode("utf-8")) <= 255
    assert not set(name) & set('/\\<>:"|?*')
    assert all(unicodedata.category(char) not in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"} for char in name)
    assert name == name.strip(" .") or name.endswith(f".{file_type.extension}")
    assert not name.startswith((".", " "))
    stem, _, extension = name.rpartition(".")
    assert stem and extension in file_type.extensions
    assert stem.split(".")[0].strip().upper() not in RESERVED
    assert unicodedata.normalize("NFC", name) == name


@FUZZ
@given(message_of(mime_tree), st.integers(min_value=0), st.booleans())
def test_generated_mime_never_breaks_extract(raw, cut, truncate):
    if truncate and raw:
        raw = raw[: cut % len(raw)]

    assert_within_bounds(extract(raw, LIMITS))


@FUZZ
@given(message_of(mime_tree), st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), max_size=8))
def test_flipped_bytes_never_break_extract(raw, flips):
    data = bytearray(raw)
    for position, value in flips:
        if data:
            data[position % len(data)] = value

    assert_within_bounds(extract(bytes(data), LIMITS))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4096))
def test_random_bytes_never_break_extract(raw):
    assert_within_bounds(extract(raw, LIMITS))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(CONTENTS), st.binary(max_size=64), st.integers(min_value=0))
def test_damaged_sample_files_are_refused_or_accepted_never_raised(content, garbage, position):
    position = position % (len(content) + 1)
    damaged = content[:position] + garbage + content[position + len(garbage) :]

    verdict = filetypes.classify(damaged, "file.bin2", "application/octet-stream", LIMITS)

    assert verdict.accepted or (verdict.code and verdict.reason)


@settings(max_examples=500, deadline=None)
@given(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=400) | name_text,
    st.sampled_from(filetypes.ACCEPTED),
    st.text(max_size=100),
    st.integers(16, 200),
)
def test_safe_filename_is_always_safe(name, file_type, fallback, max_length):
    assert_safe_name(
        safe_filename(name, file_type, fallback=fallback, max_length=max_length), file_type, max_length
    )


def test_the_generators_reach_documents_and_refusals():
    """The fuzz tests above are only worth something if their mails hold documents and refusals."""
    found = {"documents": 0, "refused": 0}

    @settings(max_examples=150, deadline=None, database=None)
    @given(message_of(mime_tree))
    def probe(raw):
        extraction = extract(raw, LIMITS)
        found["documents"] += len(extraction.documents)
        found["refused"] += len(extraction.refused)

    probe()

    assert found["documents"] > 0 and found["refused"] > 0
