"""The e-Box API sees the messages of the e-Box API only: documents sent by e-mail into the same
e-Box (its "Documents" space, or its "Purchases") are never listed, counted, served or changed
through it (issue 6: the portal shows every origin; the contract does not know them)."""

import pytest

from coffre.api.tests.conftest import PDF, A
from coffre.mailbox.models import Ebox, Message
from coffre.mailbox.tests.spaces import file_document

E_MAILED = b"%PDF-1.4 an invoice sent by e-mail"


def e_mailed(folder: str = "documents") -> Message:
    box = Ebox.objects.get(enterprise__cbe=A)
    filed = file_document(
        box,
        E_MAILED + folder.encode(),
        folder=folder,
        subject="Supplier invoice",
        sender="supplier@example.be",
    )
    return Message.objects.get(message_id=filed.message_ids[0])


def test_the_list_and_the_summary_hold_the_api_messages_only(world):
    published = world.publish_pdf()
    e_mailed("documents")
    e_mailed("purchases")
    assert Message.objects.filter(ebox__enterprise__cbe=A).count() == 3

    listed = world.alice.get("ebox/messages").json()
    assert [item["messageId"] for item in listed["items"]] == [published]
    summary = world.alice.get("ebox").json()
    assert summary["numberOfMessages"] == 1
    assert summary["numberOfUnreadMessages"] == 1
    assert summary["eboxSize"] == pytest.approx(len(PDF) / 1024, abs=0.01)


def test_search_never_finds_an_e_mailed_document(world):
    e_mailed()
    for query in ("Supplier", "supplier@example.be", "invoice"):
        response = world.alice.get("ebox/messages", {"q": query, "qlang": "fr"})
        assert response.status_code == 200 and response.json()["items"] == []


def test_an_e_mailed_document_is_not_found_by_its_id(world):
    message = e_mailed()
    attachment = message.attachments.get().attachment_id
    assert world.alice.get(f"ebox/messages/{message.message_id}").status_code == 404
    assert world.alice.get(f"ebox/messages/{message.message_id}/attachments/{attachment}").status_code == 404
    patched = world.alice.patch(
        "ebox/messages", {"items": [{"messageId": message.message_id, "visible": False}]}
    )
    assert patched.status_code == 404
    message.refresh_from_db()
    assert message.visible is True
