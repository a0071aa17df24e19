"""What becomes a document of a received mail, rule by rule, with real sample files."""

import base64
import hashlib
from dataclasses import replace
from email.message import EmailMessage

import pytest

from coffre.intake import mime
from coffre.intake.mime import DEFAULT, REFUSED, SKIPPED, Limits, extract
from coffre.intake.tests import samples
from coffre.mailbox.store import write_content

PDF_TYPE = "application/pdf"


def codes(extraction, kind=None) -> list[str]:
    return [problem.code for problem in extraction.problems if kind is None or problem.kind == kind]


def test_a_pdf_attachment_becomes_a_document_with_the_mail_s_identity():
    raw = samples.mail(
        "Facture =?utf-8?q?d=C3=A9cembre?=",
        attachments=[(samples.pdf(), "application", "pdf", "facture-2024-12.pdf")],
    ).as_bytes()

    extraction = extract(raw, DEFAULT)

    assert (extraction.subject, extraction.from_header, extraction.message_id) == (
        "Facture décembre",
        "Alice Martin <alice@fidu-lebrun.be>",
        "<sample-1@fidu-lebrun.be>",
    )
    [document] = extraction.documents
    assert (document.filename, document.media_type, document.origin, document.content) == (
        "facture-2024-12.pdf",
        PDF_TYPE,
        "attachment",
        samples.pdf(),
    )
    assert document.sha256 == hashlib.sha256(samples.pdf()).hexdigest()
    assert extraction.problems == ()


def test_the_body_is_not_stored_beside_attachments():
    raw = samples.mail(body="Voici la facture", attachments=[(samples.pdf(), "application", "pdf", "f.pdf")])

    assert [d.filename for d in extract(raw.as_bytes(), DEFAULT).documents] == ["f.pdf"]


@pytest.mark.parametrize(
    "content, declared, name, media_type, stored_name",
    [
        (samples.png(), "application/octet-stream", "scan.png", "image/png", "scan.png"),
        (samples.jpeg(padding=20_000), "image/jpeg", "photo.JPEG", "image/jpeg", "photo.jpeg"),
        (samples.gif(400, 300), "image/gif", "plan.gif", "image/gif", "plan.gif"),
        (b"II*\x00" + bytes(200), "image/tiff", "fax.tiff", "image/tiff", "fax.tiff"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8X" + bytes(200), "image/webp", "a.webp", "image/webp", "a.webp"),
        (
            b"\x00\x00\x00\x18ftypheic" + bytes(200),
            "image/heic",
            "IMG_0001.HEIC",
            "image/heic",
            "IMG_0001.heic",
        ),
        (
            samples.docx(),
            "application/octet-stream",
            "bail.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "bail.docx",
        ),
        (
            samples.xlsx(),
            "application/vnd.ms-excel",
            "compta.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "compta.xlsx",
        ),
        (
            samples.odt(),
            "application/octet-stream",
            "lettre.odt",
            "application/vnd.oasis.opendocument.text",
            "lettre.odt",
        ),
        (samples.doc(), "application/msword", "ancien.doc", "application/msword", "ancien.doc"),
        (samples.xls(), "application/octet-stream", "ancien.xls", "application/vnd.ms-excel", "ancien.xls"),
        (b"{\\rtf1\\ansi Bonjour}", "application/rtf", "note.rtf", "application/rtf", "note.rtf"),
        (b"date;montant\n2024-01-01;12,50\n", "text/csv", "banque.csv", "text/csv", "banque.csv"),
        ("Relevé\r\n".encode("cp1252"), "text/plain", "notes.txt", "text/plain", "notes.txt"),
        (
            b'<?xml version="1.0"?><Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">'
            b"<ID>F-1</ID></Invoice>",
            "application/xml",
            "peppol.xml",
            "application/xml",
            "peppol.xml",
        ),
        (samples.plain_zip(), "application/zip", "factures.zip", "application/zip", "factures.zip"),
    ],
)
def test_accepted_types_are_decided_by_content(content, declared, name, media_type, stored_name):
    maintype, subtype = declared.split("/")
    raw = samples.mail(attachments=[(content, maintype, subtype, name)]).as_bytes()

    [document] = extract(raw, DEFAULT).documents

    assert (document.media_type, document.filename, document.content) == (media_type, stored_name, content)


def test_the_declared_type_does_not_decide():
    raw = samples.mail(attachments=[(samples.png(), "application", "pdf", "scan.pdf")]).as_bytes()

    [document] = extract(raw, DEFAULT).documents

    assert (document.media_type, document.filename, document.declared_type) == (
        "image/png",
        "scan.png",
        "application/pdf",
    )


@pytest.mark.parametrize(
    "content, name, code",
    [
        (samples.pe(), "facture.pdf", "executable"),
        (samples.elf(), "rapport", "executable"),
        (b"#!/bin/sh\nrm -rf ~\n", "lisez-moi.txt", "script"),
        (samples.pdf(), "facture.pdf.exe", "executable"),
        (b"WScript.Echo 1", "facture.vbs", "script"),
        (b"alert(1)", "facture.js", "script"),
        (samples.pdf(), "setup.msi", "executable"),
        (samples.msi(), "facture.doc", "executable"),
        (
            samples.plain_zip({"META-INF/MANIFEST.MF": b"Main-Class: A", "A.class": b"\xca\xfe\xba\xbe"}),
            "outil.zip",
            "executable",
        ),
        (samples.docx(macro=True), "contrat.docx", "macro"),
        (samples.docx(), "contrat.docm", "macro"),
        (samples.doc(macros=True), "contrat.doc", "macro"),
        (samples.zip_bomb(50), "factures.zip", "archive-bomb"),
        (samples.plain_zip({"inner.zip": samples.plain_zip()}), "factures.zip", "nested-archive"),
        (samples.plain_zip({"inner.dat": samples.plain_zip()}), "factures.zip", "nested-archive"),
        (samples.plain_zip({"virus.exe": b"MZ"}), "factures.zip", "executable"),
        (samples.plain_zip({"inner.dat": samples.pe()}), "factures.zip", "executable"),
        (samples.encrypted_zip(), "factures.zip", "encrypted"),
        (b"Rar!\x1a\x07\x01\x00" + bytes(100), "factures.rar", "archive-format"),
        (b"7z\xbc\xaf\x27\x1c" + bytes(100), "factures.7z", "archive-format"),
        (b"\x1f\x8b\x08\x00" + bytes(100), "factures.pdf.gz", "archive-format"),
        (bytes(257) + b"ustar\x0000" + bytes(300), "factures.tar", "archive-format"),
        (b"<html><body><script>alert(1)</script></body></html>", "page.html", "active-content"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "logo.xml", "active-content"),
        (b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "xx">]><a>&x;</a>', "bomb.xml", "active-content"),
        (bytes(range(256)) * 4, "data.bin2", "unsupported"),
        (b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "invite.ics", "unsupported"),
        (b"PK\x03\x04" + bytes(60), "casse.docx", "damaged"),
    ],
)
def test_refused_files_are_listed_with_a_precise_reason(content, name, code):
    raw = samples.mail(attachments=[(content, "application", "octet-stream", name)]).as_bytes()

    extraction = extract(raw, DEFAULT)

    assert extraction.documents == ()
    [problem] = extraction.problems
    assert (problem.kind, problem.code, problem.filename, problem.part) == (REFUSED, code, name, "2")
    assert problem.message.startswith("not stored: ")


def test_zip_bomb_by_entry_count_and_total_size():
    small = replace(DEFAULT, archive_max_entries=50, archive_max_size=10 * 1024 * 1024)

    many = extract(
        samples.mail(attachments=[(samples.many_entries_zip(51), "application", "zip", "a.zip")]).as_bytes(),
        small,
    )
    large = extract(
        samples.mail(attachments=[(samples.zip_bomb(11), "application", "zip", "b.zip")]).as_bytes(),
        replace(small, archive_max_ratio=100_000),
    )

    assert codes(many) == ["archive-bomb"] and "51 entries" in many.problems[0].message
    assert codes(large) == ["archive-bomb"] and "11.0 MB" in large.problems[0].message


def test_zips_can_be_refused_altogether():
    raw = samples.mail(attachments=[(samples.plain_zip(), "application", "zip", "f.zip")]).as_bytes()

    assert codes(extract(raw, replace(DEFAULT, accept_zip=False))) == ["archive"]
    assert len(extract(raw, DEFAULT).documents) == 1


def test_files_over_the_per_file_limit_are_refused():
    big = samples.pdf() + b"%" + bytes(3000)
    raw = samples.mail(
        attachments=[
            (big, "application", "pdf", "big.pdf"),
            (samples.pdf(), "application", "pdf", "small.pdf"),
        ]
    ).as_bytes()

    extraction = extract(raw, replace(DEFAULT, max_file_size=2000))

    assert [d.filename for d in extraction.documents] == ["small.pdf"]
    assert codes(extraction) == ["too-large"] and extraction.problems[0].filename == "big.pdf"


def test_more_documents_than_allowed_keeps_the_first_ones():
    attachments = [(samples.pdf(f"Facture {n}"), "application", "pdf", f"f{n}.pdf") for n in range(5)]
    raw = samples.mail(attachments=attachments).as_bytes()

    extraction = extract(raw, replace(DEFAULT, max_documents=3))

    assert [d.filename for d in extraction.documents] == ["f0.pdf", "f1.pdf", "f2.pdf"]
    assert [(p.code, p.filename) for p in extraction.problems] == [
        ("too-many-documents", "f3.pdf"),
        ("too-many-documents", "f4.pdf"),
    ]


def test_a_message_over_the_size_limit_is_not_read():
    raw = samples.mail(attachments=[(samples.pdf(), "application", "pdf", "f.pdf")]).as_bytes()

    extraction = extract(raw, replace(DEFAULT, max_message_size=len(raw) - 1))

    assert extraction.documents == () and codes(extraction) == ["message-too-large"]
    assert extraction.subject == "Facture"


# --- forwarded mails ------------------------------------------------------------------------------


@pytest.mark.parametrize("as_eml_file", [False, True], ids=["message/rfc822", ".eml file"])
def test_the_attachments_of_a_forwarded_mail_become_documents(as_eml_file):
    inner = samples.mail(
        "Facture SNCB",
        attachments=[
            (samples.pdf("SNCB"), "application", "pdf", "sncb.pdf"),
            (samples.png(), "image", "png", "ticket.png"),
        ],
    )
    raw = samples.forward(inner, as_eml_file=as_eml_file).as_bytes()

    extraction = extract(raw, DEFAULT)

    assert [(d.filename, d.origin, d.part) for d in extraction.documents] == [
        ("sncb.pdf", "forwarded", "2.2"),
        ("ticket.png", "forwarded", "2.3"),
    ]
    assert extraction.subject == "Fwd: Facture"


def test_a_forwarded_mail_without_attachment_is_stored_as_its_body():
    raw = samples.forward(samples.mail("Confirmation de commande", "Commande 42 confirmée.")).as_bytes()

    [document] = extract(raw, DEFAULT).documents

    assert (document.filename, document.media_type, document.origin) == (
        "Confirmation de commande.txt",
        "text/plain",
        "body",
    )
    assert "Commande 42 confirmée." in document.content.decode("utf-8")


def test_forwarded_mails_are_read_down_to_the_depth_limit():
    message = samples.mail("Niveau 0", attachments=[(samples.pdf("deep"), "application", "pdf", "deep.pdf")])
    for level in range(1, 4):
        message = samples.forward(message, subject=f"Niveau {level}")

    assert [
        d.filename for d in extract(message.as_bytes(), replace(DEFAULT, max_forward_depth=3)).documents
    ] == ["deep.pdf"]
    too_deep = extract(message.as_bytes(), replace(DEFAULT, max_forward_depth=2))
    assert too_deep.documents == () and codes(too_deep) == ["too-deep"]


def test_an_eml_name_on_something_else_is_judged_by_its_content():
    raw = samples.mail(attachments=[(samples.pdf(), "application", "octet-stream", "facture.eml")]).as_bytes()

    [document] = extract(raw, DEFAULT).documents

    assert (document.filename, document.media_type) == ("facture.pdf", PDF_TYPE)


# --- bodies ---------------------------------------------------------------------------------------


def test_a_mail_without_attachment_is_stored_as_its_text_body():
    raw = samples.mail("Rendez-vous comptable", "Bonjour,\n\nLe rendez-vous est fixé au 12.\n").as_bytes()

    [document] = extract(raw, DEFAULT).documents

    assert (document.filename, document.media_type, document.origin) == (
        "Rendez-vous comptable.txt",
        "text/plain",
        "body",
    )
    assert document.content.decode("utf-8") == (
        "From: Alice Martin <alice@fidu-lebrun.be>\nDate: Tue, 05 Nov 2024 10:00:00 +0100\n"
        "Subject: Rendez-vous comptable\n\nBonjour,\n\nLe rendez-vous est fixé au 12.\n"
    )


def test_an_html_only_body_is_stored_as_its_text_without_scripts_or_remote_content():
    html = (
        "<html><head><style>p{}</style><script>steal()</script></head><body><p>Votre facture "
        '<b>F-12</b></p><img src="https://tracker.example/pixel.gif"><table><tr><td>Total</td><td>12 EUR'
        '</td></tr></table><a href="https://shop.example/f12">voir</a></body></html>'
    )
    raw = samples.mail("Facture F-12", None, html=html).as_bytes()

    [document] = extract(raw, DEFAULT).documents

    text = document.content.decode("utf-8")
    assert (document.filename, document.media_type) == ("Facture F-12.txt", "text/plain")
    assert (
        "Votre facture F-12" in text and "Total\t12 EUR" in text and "voir <https://shop.example/f12>" in text
    )
    assert (
        "steal" not in text
        and "tracker" not in text
        and "<" not in text.split("\n\n", 1)[1].replace("<https://shop.example/f12>", "")
    )


def test_the_text_part_of_an_alternative_wins_over_the_html():
    raw = samples.mail("Note", "texte brut", html="<p>texte <i>riche</i></p>").as_bytes()

    [document] = extract(raw, DEFAULT).documents

    assert document.content.decode().endswith("\n\ntexte brut\n")


def test_a_mail_with_neither_attachment_nor_text_stores_nothing():
    extraction = extract(samples.mail("Vide", "   \n").as_bytes(), DEFAULT)

    assert extraction.documents == () and codes(extraction) == ["empty"]


def test_a_mail_whose_only_attachment_is_refused_does_not_fall_back_to_its_body():
    raw = samples.mail(
        body="ouvrez-moi", attachments=[(samples.pe(), "application", "pdf", "f.pdf")]
    ).as_bytes()

    extraction = extract(raw, DEFAULT)

    assert extraction.documents == () and codes(extraction) == ["executable"]


# --- inline images --------------------------------------------------------------------------------


def _with_inline_image(
    image: bytes,
    *,
    disposition: str | None = "inline",
    cid: str | None = "logo@sig",
    html_refers: bool = True,
) -> bytes:
    message = samples.mail(
        "Signature",
        "Bonjour",
        html='<p>Bonjour</p><img src="cid:logo@sig">' if html_refers else "<p>Bonjour</p>",
    )
    related = message.get_payload()[1]
    related.add_related(
        image,
        maintype="image",
        subtype="png",
        cid=f"<{cid}>" if cid else None,
        disposition=disposition or "inline",
    )
    if disposition is None:
        del related.get_payload()[-1]["Content-Disposition"]
    return message.as_bytes()


def test_tiny_inline_images_are_skipped_and_listed():
    extraction = extract(_with_inline_image(samples.png(120, 40)), DEFAULT)

    assert [d.origin for d in extraction.documents] == ["body"]
    assert [(p.kind, p.code) for p in extraction.problems] == [(SKIPPED, "inline-image")]


def test_an_inline_image_with_small_pixel_dimensions_is_skipped_even_when_heavier():
    logo = samples.png(150, 60, noise=True)
    assert len(logo) > 10 * 1024

    assert codes(extract(_with_inline_image(logo), DEFAULT)) == ["inline-image"]


def test_a_large_inline_image_is_a_document():
    photo = samples.png(400, 300, noise=True)

    extraction = extract(_with_inline_image(photo), DEFAULT)

    assert [(d.media_type, d.content) for d in extraction.documents] == [("image/png", photo)]


def test_a_small_image_sent_as_an_attachment_is_kept():
    raw = samples.mail(attachments=[(samples.png(16, 16), "image", "png", "tampon.png")]).as_bytes()

    assert [d.filename for d in extract(raw, DEFAULT).documents] == ["tampon.png"]


def test_a_cid_image_not_referenced_by_the_html_is_an_attachment():
    extraction = extract(
        _with_inline_image(samples.png(32, 32), disposition=None, html_refers=False), DEFAULT
    )

    assert [d.media_type for d in extraction.documents] == ["image/png"]


# --- names ----------------------------------------------------------------------------------------


def test_dangerous_names_are_made_safe():
    attachments = [
        (samples.pdf("1"), "application", "pdf", "../../etc/passwd.pdf"),
        (samples.pdf("2"), "application", "pdf", "C:\\Windows\\fact\u202ecod.exe.pdf"),
        (samples.pdf("3"), "application", "pdf", "CON.pdf"),
        (samples.pdf("4"), "application", "pdf", "a\x00b\x1fc.pdf"),
        (samples.pdf("5"), "application", "pdf", "x" * 300 + ".pdf"),
    ]
    names = [d.filename for d in extract(samples.mail(attachments=attachments).as_bytes(), DEFAULT).documents]

    assert names[:4] == ["passwd.pdf", "factcod.exe.pdf", "_CON.pdf", "abc.pdf"]
    assert names[4] == "x" * 116 + ".pdf"


def test_a_missing_name_comes_from_the_subject_and_names_are_unique():
    message = samples.mail(
        "Factures / novembre",
        attachments=[
            (samples.pdf("1"), "application", "pdf", "f.pdf"),
            (samples.pdf("2"), "application", "pdf", "F.pdf"),
        ],
    )
    message.add_attachment(samples.pdf("3"), maintype="application", subtype="pdf")
    del message.get_payload()[-1]["Content-Disposition"]
    message.get_payload()[-1]["Content-Disposition"] = "attachment"

    names = [d.filename for d in extract(message.as_bytes(), DEFAULT).documents]

    assert names == ["f.pdf", "F (2).pdf", "Factures _ novembre.pdf"]


def test_the_same_file_twice_is_stored_once():
    raw = samples.mail(
        attachments=[
            (samples.pdf(), "application", "pdf", "a.pdf"),
            (samples.pdf(), "application", "pdf", "b.pdf"),
        ]
    ).as_bytes()

    extraction = extract(raw, DEFAULT)

    assert [d.filename for d in extraction.documents] == ["a.pdf"]
    assert [(p.kind, p.code, p.filename) for p in extraction.problems] == [(SKIPPED, "duplicate", "b.pdf")]


# --- broken input ---------------------------------------------------------------------------------


def _raw(headers: str, body: str) -> bytes:
    return (headers.replace("\n", "\r\n") + "\r\n\r\n" + body.replace("\n", "\r\n")).encode("latin-1")


def test_bad_base64_is_decoded_as_far_as_it_goes_and_listed():
    pdf = base64.b64encode(samples.pdf()).decode()
    raw = _raw(
        "From: a@example.be\nSubject: b64\nContent-Type: multipart/mixed; boundary=XX",
        f"--XX\nContent-Type: application/pdf; name=f.pdf\nContent-Transfer-Encoding: base64\n"
        f"Content-Disposition: attachment; filename=f.pdf\n\n{pdf[:-3]}!!*\n--XX--\n",
    )

    extraction = extract(raw, DEFAULT)

    assert [d.media_type for d in extraction.documents] == [PDF_TYPE]
    assert {p.kind for p in extraction.problems} == {"defect"}
    assert any("base64" in p.code for p in extraction.problems)


def test_unknown_charsets_and_broken_encoded_words_do_not_stop_the_reading():
    raw = _raw(
        "From: =?x-klingon?q?Kor?= <kor@example.be>\nSubject: =?utf-8?b?!!!?= =?x-unknown?q?caf=E9?=\n"
        "Content-Type: text/plain; charset=x-klingon",
        "Qapla\xe9 caf\xe9",
    )

    extraction = extract(raw, DEFAULT)

    [document] = extraction.documents
    assert "Qapla" in document.content.decode("utf-8")
    assert "unknown-charset" in codes(extraction)


def test_a_multipart_without_its_boundary_is_listed():
    raw = _raw(
        "From: a@example.be\nSubject: cut\nContent-Type: multipart/mixed; boundary=NEVER",
        "--OTHER\nContent-Type: application/pdf\n\n%PDF-1.4\n",
    )

    extraction = extract(raw, DEFAULT)

    assert extraction.documents == ()
    assert {"no-parts", "start-boundary-not-found"} <= set(codes(extraction))


def test_a_truncated_mail_keeps_what_arrived():
    raw = samples.mail(
        attachments=[(samples.pdf(), "application", "pdf", "f.pdf"), (samples.png(), "image", "png", "g.png")]
    ).as_bytes()

    extraction = extract(raw[: raw.rindex(b"Content-Type: image/png") + 40], DEFAULT)

    assert "f.pdf" in [d.filename for d in extraction.documents]
    assert "close-boundary-not-found" in codes(extraction)


def test_encrypted_mails_and_signatures():
    signed = EmailMessage()
    signed["From"], signed["Subject"] = "a@example.be", "signé"
    signed.set_content("corps")
    signed.add_attachment(samples.pdf(), maintype="application", subtype="pdf", filename="f.pdf")
    signed.add_attachment(
        b"0\x82signature", maintype="application", subtype="pkcs7-signature", filename="smime.p7s"
    )
    encrypted = _raw(
        "From: a@example.be\nSubject: secret\nContent-Type: application/pkcs7-mime; "
        "smime-type=enveloped-data; name=smime.p7m\nContent-Transfer-Encoding: base64",
        base64.b64encode(b"0\x80" + bytes(50)).decode(),
    )

    assert [d.filename for d in extract(signed.as_bytes(), DEFAULT).documents] == ["f.pdf"]
    assert codes(extract(signed.as_bytes(), DEFAULT)) == ["signature"]
    assert codes(extract(encrypted, DEFAULT)) == ["encrypted"]


def test_too_many_mime_delimiters_are_refused_before_parsing():
    parts = "".join(f"--B\nContent-Type: text/plain\n\n{n}\n" for n in range(60))
    raw = _raw(
        "From: a@example.be\nSubject: many\nContent-Type: multipart/mixed; boundary=B", parts + "--B--"
    )

    extraction = extract(raw, replace(DEFAULT, max_parts=10))

    assert extraction.documents == () and codes(extraction) == ["too-many-parts"]
    assert extraction.subject == "many"


def test_deeply_nested_multiparts_are_cut():
    nested = "".join(f'--b{n - 1}\nContent-Type: multipart/mixed; boundary="b{n}"\n\n' for n in range(1, 40))
    raw = _raw(
        'From: a@example.be\nSubject: deep\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b0"',
        nested + "--b39\nContent-Type: application/pdf\n\n%PDF-1.4\n",
    )

    extraction = extract(raw, DEFAULT)

    assert extraction.documents == () and "too-deep" in codes(extraction)


def test_nothing_that_is_not_a_mail_raises():
    for raw in (
        b"",
        b"\x00" * 100,
        b"\xff\xfe\xfd",
        b"Content-Type: multipart/mixed; boundary=",
        b"\r\n" * 50,
    ):
        extraction = extract(raw, DEFAULT)
        assert isinstance(extraction, mime.Extraction)


def test_limits_come_from_the_settings(settings):
    settings.COFFRE_INTAKE_MAX_DOCUMENTS = 1
    settings.COFFRE_INTAKE_ACCEPT_ZIP = False
    raw = samples.mail(
        attachments=[
            (samples.pdf("1"), "application", "pdf", "a.pdf"),
            (samples.plain_zip(), "application", "zip", "b.zip"),
            (samples.pdf("2"), "application", "pdf", "c.pdf"),
        ]
    ).as_bytes()

    extraction = extract(raw)

    assert Limits.from_settings().max_documents == 1
    assert [d.filename for d in extraction.documents] == ["a.pdf"]
    assert codes(extraction) == ["archive", "too-many-documents"]


# --- handing out --------------------------------------------------------------------------------


def test_document_content_goes_to_the_store_as_chunks():
    content = samples.png(300, 300, noise=True)
    raw = samples.mail(attachments=[(content, "image", "png", "big.png")]).as_bytes()
    [document] = extract(raw, DEFAULT).documents

    staged = write_content(document.chunks(size=1000))
    try:
        assert (staged.sha256, staged.size, staged.head) == (document.sha256, len(content), content[:64])
    finally:
        staged.discard()


def test_the_extraction_describes_itself_without_content():
    raw = samples.mail(
        attachments=[
            (samples.pdf(), "application", "pdf", "f.pdf"),
            (samples.pe(), "application", "pdf", "g.pdf"),
        ]
    ).as_bytes()

    described = extract(raw, DEFAULT).as_dict()

    assert described["documents"][0]["filename"] == "f.pdf" and "content" not in described["documents"][0]
    assert described["problems"][0]["code"] == "executable"
