"""The intake pipeline's steps alone (coffre.intake.pipeline): reading the headers, the documents of
a mail, mails polled over IMAP (nothing can be deferred), the encrypted copy of a waiting mail."""

import datetime as dt

import pytest

from coffre.accounts.tests.portal_people import world_fixture  # noqa: F401
from coffre.intake import pipeline
from coffre.intake.models import PendingMail
from coffre.intake.tests.intake_mails import PDF, invoice, mail, receive, space_address
from coffre.mailbox import store
from coffre.mailbox.models import Blob, Ebox


def test_the_headers_the_intake_reads():
    raw = invoice(
        "Élise <elise@example.be>",
        subject="Facture n° 12 — janvier",
        message_id="<abc@client.example>",
        headers={"Auto-Submitted": "No", "Precedence": "Bulk", "Content-Language": "fr-BE"},
    )
    facts = pipeline.parse_mail(raw)
    assert facts.subject == "Facture n° 12 — janvier"
    assert facts.from_header == "Élise <elise@example.be>"
    assert facts.message_id == "<abc@client.example>"
    assert facts.key == "mid:<abc@client.example>"
    assert (facts.auto_submitted, facts.precedence, facts.languages) == ("no", "bulk", ("fr",))


def test_a_mail_without_message_id_is_known_by_its_content():
    raw = invoice(message_id="")
    assert pipeline.parse_mail(raw).key == "sha256:" + pipeline.parse_mail(raw).sha256
    assert pipeline.parse_mail(raw).key != pipeline.parse_mail(raw + b"x").key


@pytest.mark.parametrize(
    "headers, expected",
    [
        (("nl-BE",), ("nl",)),
        (("", "de-DE,de;q=0.9,en;q=0.8"), ("de", "en")),
        (("", "en;q=0.2, fr"), ("fr", "en")),
        (("x-klingon, not a tag",), ()),
    ],
)
def test_languages_of_the_headers(headers, expected):
    assert pipeline.languages_of(*headers) == expected


def test_the_documents_of_a_mail_are_its_attachments_as_the_mime_extraction_decides():
    raw = invoice(
        attachments=[
            ("a.pdf", "application/octet-stream", PDF),  # typed by its content
            ("setup.exe", "application/pdf", b"MZ\x90\x00" + b"\x00" * 200),  # an executable: left out
        ]
    )
    documents = pipeline.documents_of(raw).documents
    assert [(d.file_name, d.media_type, d.content) for d in documents] == [("a.pdf", "application/pdf", PDF)]


def test_a_mail_without_attachment_is_its_text():
    [document] = pipeline.documents_of(mail(body="Meeting on Monday, 10 o'clock.")).documents
    assert document.file_name.endswith(".txt")
    assert document.media_type.startswith("text/plain")
    assert "Meeting on Monday, 10 o'clock." in document.content.decode()


def test_a_file_name_never_carries_a_path():
    raw = invoice(attachments=[("../../etc/invoice.pdf", "application/pdf", PDF)])
    assert pipeline.documents_of(raw).documents[0].file_name == "invoice.pdf"


def test_over_imap_a_dns_timeout_counts_as_unauthenticated(world, dns_server):
    dns_server.drop("slow.example")
    to = space_address(Ebox.objects.get(enterprise=world.a))
    outcome = receive(invoice("late@slow.example"), to, mail_from="late@slow.example", via="imap")
    assert outcome.verdict.status == "temperror"
    [item] = outcome.recipients
    assert item.result == pipeline.Result.PENDING  # nothing can be deferred: it waits instead


def test_a_waiting_mail_is_kept_encrypted(world, settings):
    settings.COFFRE_SENDER_AUTH = False
    box = Ebox.objects.get(enterprise=world.a)
    raw = invoice("stranger@elsewhere.example")
    receive(raw, space_address(box), mail_from="stranger@elsewhere.example")
    waiting = PendingMail.objects.get(ebox=box)
    stored = store.blob_storage().open(waiting.blob.storage_name).read()
    assert PDF not in stored and b"stranger@elsewhere.example" not in stored  # sealed at rest
    assert b"".join(store.open_verified(waiting.blob)) == raw
    assert waiting.expires_at - waiting.received_at == dt.timedelta(days=30)
    assert Blob.objects.filter(scope=world.a).count() == 1


def test_an_unknown_recipient_is_left_alone(world):
    outcome = receive(invoice(), "nobody@intake.localhost", "someone@elsewhere.example")
    assert {item.result for item in outcome.recipients} == {pipeline.Result.UNKNOWN}
    assert outcome.verdict is None  # nothing to authenticate for
