"""The message page, the PDF preview and downloads (coffre.mailbox.views_message)."""

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest

from coffre.audit.models import AuditRecord
from coffre.mailbox import services
from coffre.mailbox.models import Message
from coffre.mailbox.tests.conftest import PDF, A, B, publish
from coffre.mailbox.views_message import content_disposition, safe_file_name

ANNEX = b"%PDF-1.4\n% annex\n%%EOF\n"


def urls(message: Message, cbe: str = A) -> dict[str, str]:
    base = f"/e/{cbe}/m/{message.message_id}/"
    attachment = message.attachments.order_by("position").first()
    return {
        "page": base,
        "preview": f"{base}a/{attachment.attachment_id}/preview/",
        "download": f"{base}a/{attachment.attachment_id}/download/",
    }


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def is_read(message: Message) -> bool:
    message.refresh_from_db()
    return message.read_at is not None


@pytest.fixture
def two_documents(portal):
    """A message whose main content is a PDF, with a PDF annex."""
    return publish(
        files=[("main.pdf", PDF, "application/pdf", True), ("annex.pdf", ANNEX, "application/pdf", False)]
    )


# --- who may open what ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "who, status",
    [("alice", 200), ("bob", 200), ("ann", 200), ("carl", 200), ("charlie", 404), ("anonymous", 302)],
)
@pytest.mark.parametrize("what", ["page", "preview", "download"])
def test_messages_and_documents_are_for_the_enterprises_readers(portal, who, status, what):
    message = publish()
    response = portal.client(who).get(urls(message)[what])
    assert response.status_code == status
    if status != 200:
        assert not is_read(message)
        assert b"%PDF" not in body_of(response)


@pytest.mark.parametrize("what", ["page", "preview", "download"])
def test_another_eboxs_message_is_not_found_under_ones_own_enterprise(portal, what):
    theirs = publish(B)
    mine_url = urls(theirs, cbe=A)[what]
    assert portal.client("alice").get(mine_url).status_code == 404
    assert portal.client("alice").get(urls(theirs, cbe=B)[what]).status_code == 404
    assert not is_read(theirs)


def test_an_attachment_of_another_message_is_not_found(portal):
    first, second = publish(), publish()
    foreign = second.attachments.get().attachment_id
    response = portal.client("bob").get(f"/e/{A}/m/{first.message_id}/a/{foreign}/download/")
    assert response.status_code == 404


def test_an_expired_message_is_gone(portal, clock):
    message = publish(message_type="REMINDER")
    clock.shift(dt.timedelta(days=31))
    for url in urls(message).values():
        assert portal.client("bob").get(url).status_code == 404


# --- the page -----------------------------------------------------------------------------------


def test_the_page_shows_the_message_in_the_readers_language(portal):
    message = publish(
        body={"fr": "Voici <b>votre</b> attestation.", "nl": "Hier is uw attest."},
        business_data=[
            {"key": "period", "name": {"fr": "Période", "nl": "Periode"}, "values": [{"fr": "T1 2026"}]}
        ],
        payment=services.PaymentDraft(
            amount=Decimal("120.50"),
            vat_amount=Decimal("25.31"),
            currency="EUR",
            due_date=dt.datetime(2026, 2, 28, tzinfo=dt.UTC),
            iban="BE71096123456769",
            reference={"type": "structured", "value": "+++090/9337/55493+++"},
        ),
    )
    bob = portal.client("bob")
    bob.cookies["django_language"] = "nl"
    page = bob.get(urls(message)["page"]).content.decode()
    assert "Driemaandelijks attest" in page and "Hier is uw attest." in page
    assert "RSZ" in page and "Periode" in page and "T1 2026" in page
    assert "BE71096123456769" in page and "+++090/9337/55493+++" in page
    fr = portal.client("alice").get(urls(message)["page"]).content.decode()
    assert "Voici &lt;b&gt;votre&lt;/b&gt; attestation." in fr  # the body is text, never markup


def test_the_main_pdf_is_previewed_in_a_frame_that_chromium_will_render(portal, two_documents):
    page = portal.client("bob").get(urls(two_documents)["page"]).content.decode()
    frames = re.findall(r"<iframe[^>]*>", page)
    assert len(frames) == 1
    assert f'src="{urls(two_documents)["preview"]}"' in frames[0]
    assert "sandbox" not in frames[0]  # Chromium shows no PDF in a sandboxed frame
    assert 'title="Preview of main.pdf"' in frames[0]


def test_another_pdf_is_previewed_on_request(portal, two_documents):
    annex = two_documents.attachments.get(main_content=False)
    page = (
        portal.client("bob")
        .get(urls(two_documents)["page"], {"preview": annex.attachment_id})
        .content.decode()
    )
    assert re.search(rf'<iframe[^>]*src="[^"]*/a/{annex.attachment_id}/preview/"', page)


def test_other_types_are_not_previewed(portal):
    message = publish(files=[("page.html", b"<script>alert(1)</script>", "text/html", True)])
    bob = portal.client("bob")
    assert "<iframe" not in bob.get(urls(message)["page"]).content.decode()
    assert bob.get(urls(message)["preview"]).status_code == 404
    assert not is_read(message)


def test_hide_and_show_buttons_only_for_those_who_may(portal):
    message = publish()
    assert "Hide this message" in portal.client("bob").get(urls(message)["page"]).content.decode()
    assert "Hide this message" not in portal.client("ann").get(urls(message)["page"]).content.decode()
    Message.objects.filter(pk=message.pk).update(visible=False)
    assert "Show this message again" in portal.client("alice").get(urls(message)["page"]).content.decode()


# --- reading --------------------------------------------------------------------------------------


def test_opening_the_page_reads_a_message_whose_body_is_the_main_content(portal):
    message = publish(body={"fr": "Le contenu"}, body_main=True, files=[])
    portal.client("ann").get(f"/e/{A}/m/{message.message_id}/")
    assert is_read(message)
    audit = AuditRecord.objects.filter(action="web.message").get()
    assert (audit.actor_kind, audit.actor, audit.details["markedRead"]) == ("web", "ann@example.be", True)


def test_opening_the_page_alone_does_not_read_a_message_whose_main_content_is_a_document(
    portal, two_documents
):
    portal.client("bob").get(urls(two_documents)["page"])
    assert not is_read(two_documents)


def test_only_the_main_document_reads_the_message(portal, two_documents):
    base = f"/e/{A}/m/{two_documents.message_id}/a"
    annex = two_documents.attachments.get(main_content=False).attachment_id
    main = two_documents.attachments.get(main_content=True).attachment_id
    bob = portal.client("bob")

    assert bob.get(f"{base}/{annex}/download/").status_code == 200
    assert bob.get(f"{base}/{annex}/preview/").status_code == 200
    assert not is_read(two_documents)

    assert body_of(bob.get(f"{base}/{main}/preview/")) == PDF
    assert is_read(two_documents)
    bob.get(f"{base}/{main}/download/")
    marks = list(
        AuditRecord.objects.filter(action__in=["web.preview", "web.download"])
        .order_by("seq")
        .values_list("action", "details__attachmentId", "details__markedRead")
    )
    assert marks == [
        ("web.download", annex, False),
        ("web.preview", annex, False),
        ("web.preview", main, True),
        ("web.download", main, False),
    ]


# --- serving safely -------------------------------------------------------------------------------


def test_the_preview_is_served_inline_as_a_sandboxed_pdf(portal):
    message = publish()
    response = portal.client("bob").get(urls(message)["preview"])
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('inline; filename="attestation.pdf"')
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox; default-src 'none'; frame-ancestors 'self'"
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    assert response["Content-Length"] == str(len(PDF))
    assert body_of(response) == PDF


def test_a_download_is_an_attachment_with_a_safe_name(portal):
    message = publish(files=[('../x/Rapport "été"\r\n.pdf', PDF, "application/pdf", True)])
    response = portal.client("bob").get(urls(message)["download"])
    assert response["Content-Disposition"] == (
        "attachment; filename=\"Rapport _ete___.pdf\"; filename*=UTF-8''Rapport%20_%C3%A9t%C3%A9___.pdf"
    )
    assert response["Content-Security-Policy"] == "sandbox; default-src 'none'; frame-ancestors 'self'"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert body_of(response) == PDF


@pytest.mark.parametrize(
    "name, safe",
    [
        ("a/b\\c.pdf", "c.pdf"),
        ("...", "document"),
        ("", "document"),
        ("x" * 300, "x" * 150),
        ("tab\there.pdf", "tab_here.pdf"),
        ("<script>.pdf", "_script_.pdf"),
    ],
)
def test_file_names_lose_directories_and_dangerous_characters(name, safe):
    assert safe_file_name(name) == safe
    assert "\n" not in content_disposition("attachment", name)


def test_a_document_that_is_not_a_pdf_is_not_previewed_as_one(portal):
    message = publish(
        files=[("trap.pdf", b"<html><script>alert(1)</script></html>", "application/pdf", True)]
    )
    response = portal.client("bob").get(urls(message)["preview"])
    assert response.status_code == 415
    assert b"<script>" not in body_of(response)
    assert "Download the document" in response.content.decode()
    assert not is_read(message)


@pytest.mark.parametrize("what", ["preview", "download"])
def test_a_tampered_document_is_never_served(portal, isolated_blob_storage, what):
    message = publish()
    blob = message.attachments.get().blob
    stored = Path(isolated_blob_storage) / blob.storage_name
    sealed = bytearray(stored.read_bytes())
    sealed[-20] ^= 0x01
    stored.write_bytes(bytes(sealed))

    response = portal.client("bob").get(urls(message)[what])

    assert response.status_code == 500
    assert not response.streaming and b"%PDF" not in response.content
    assert "failed its integrity check" in response.content.decode()
    assert not is_read(message)
    assert not AuditRecord.objects.filter(action__in=["web.preview", "web.download"]).exists()
