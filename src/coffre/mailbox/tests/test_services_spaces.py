"""Boxes of people ("My documents") and documents filed outside the e-Box API
(coffre.mailbox.services_spaces), and the invariants of the models behind them."""

import pytest
from django.db import IntegrityError, transaction

from coffre.audit.models import AuditRecord
from coffre.mailbox import selectors, store
from coffre.mailbox.models import Blob, Ebox, Message, Origin
from coffre.mailbox.services_spaces import personal_box
from coffre.mailbox.tests.conftest import PDF, A, publish
from coffre.mailbox.tests.spaces import file_document


def test_a_persons_box_is_made_once_when_first_needed(portal):
    alice = portal.people["alice"]
    assert not Ebox.objects.filter(owner=alice).exists()
    box = personal_box(alice)
    assert personal_box(alice) == box
    assert box.is_personal and box.folders() == ["documents"]
    assert AuditRecord.objects.filter(action="personalBox.created").count() == 1


def test_a_box_belongs_to_one_enterprise_or_one_person(portal):
    with pytest.raises(IntegrityError), transaction.atomic():
        Ebox.objects.create()
    with pytest.raises(IntegrityError), transaction.atomic():
        Ebox.objects.create(enterprise=portal.b, owner=portal.people["alice"])  # B has one already, too


def test_a_message_of_the_api_needs_its_reference_data(portal):
    message = publish()
    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.filter(pk=message.pk).update(message_type=None)


def test_each_document_is_a_message_of_the_space(portal):
    filed = file_document(
        portal.ebox_a, PDF, folder="purchases", subject="Invoice 12", sender="shop@example.be"
    )
    message = Message.objects.get(message_id=filed.message_ids[0])
    assert (message.folder, message.origin, message.sender_address) == (
        "purchases",
        Origin.EMAIL,
        "shop@example.be",
    )
    assert message.message_type_id is None and message.sender_organization_id is None
    assert message.subject == {"fr": "Invoice 12"}
    attachment = message.attachments.get()
    assert attachment.main_content and attachment.file_name == "invoice.pdf"
    assert attachment.blob.scope_id == portal.a.pk
    assert b"".join(store.open_verified(attachment.blob)) == PDF  # encrypted at rest, verified out
    assert message.expiration_date.year == message.receipt_date.year + 10


def test_a_document_already_in_the_space_is_not_stored_twice(portal):
    first = file_document(portal.ebox_a, PDF)
    again = file_document(portal.ebox_a, PDF, file_name="copy.pdf")
    assert again.message_ids == []
    assert again.duplicates == [{"file_name": "copy.pdf", "message_id": first.message_ids[0]}]
    # Another space of the same enterprise takes it, with the same encrypted content.
    other = file_document(portal.ebox_a, PDF, folder="purchases")
    assert len(other.message_ids) == 1
    assert Blob.objects.filter(scope=portal.a).count() == 1
    assert Message.objects.filter(ebox=portal.ebox_a).count() == 2


def test_a_persons_documents_are_their_own_content(portal):
    alice, bob = portal.people["alice"], portal.people["bob"]
    file_document(personal_box(alice), PDF)
    file_document(personal_box(bob), PDF)
    blobs = Blob.objects.filter(sha256=Blob.objects.get(owner=alice).sha256)
    assert sorted((blob.scope_id, blob.owner_id) for blob in blobs) == sorted(
        [(None, alice.pk), (None, bob.pk)]
    )
    with pytest.raises(ValueError):
        file_document(personal_box(alice), PDF, folder="purchases")  # a person's box has no Purchases


def test_the_api_never_reaches_a_persons_box(portal):
    box = personal_box(portal.people["alice"])
    file_document(box, PDF)
    assert selectors.ebox_of(A).pk == portal.ebox_a.pk
    assert not selectors.available_messages(box).exists()  # the API's view: origin "api" only
    assert selectors.available_messages(box, origin=None).count() == 1


def test_a_blob_goes_only_when_nothing_names_it(portal, django_capture_on_commit_callbacks):
    filed = file_document(portal.ebox_a, PDF)
    blob = Message.objects.get(message_id=filed.message_ids[0]).attachments.get().blob
    with transaction.atomic():
        assert store.discard_blob(blob.pk) is False  # an attachment names it
    staged = store.write_content([b"unused"])
    store.stage([staged])
    with transaction.atomic():
        lonely = store.adopt(portal.a.pk, staged)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        assert store.discard_blob(lonely.pk) is True
        assert store.blob_storage().exists(lonely.storage_name)  # until the commit
    assert not Blob.objects.filter(pk=lonely.pk).exists()
    assert not store.blob_storage().exists(lonely.storage_name)


def test_an_agents_document_keeps_its_further_files_sender_expiry_and_payment(portal):
    import datetime as dt
    from decimal import Decimal

    from django.utils import timezone

    from coffre.mailbox import services_spaces
    from coffre.mailbox.services import PaymentDraft

    main, annex = store.write_content([PDF]), store.write_content([b"%PDF-1.4 annex"])
    store.stage([main, annex])
    expiry = timezone.now() + dt.timedelta(days=90)
    payment = PaymentDraft(amount=Decimal("10.00"), vat_amount=Decimal("2.10"), currency="EUR",
                           due_date=timezone.now() + dt.timedelta(days=30), iban="BE71096123456769")
    draft = services_spaces.DocumentDraft(
        main, "bill.pdf", "application/pdf", "Bill",
        more_files=[services_spaces.DocumentFile(annex, "annex.pdf", "application/pdf")],
        sender_name="Example Energy SA", expires_at=expiry, payment=payment,
    )
    with transaction.atomic():
        filed = services_spaces.file_documents(
            portal.ebox_a, "documents", [draft], origin=Origin.AGENT, sender_address="", language="fr"
        )
    message = Message.objects.get(message_id=filed.message_ids[0])
    assert [(a.position, a.file_name, a.main_content) for a in message.attachments.all()] == [
        (0, "bill.pdf", True), (1, "annex.pdf", False)
    ]
    assert (message.sender_name, message.expiration_date) == ("Example Energy SA", expiry)
    assert message.attachments_size == main.size + annex.size
    assert message.payment_data.amount == Decimal("10.00")
    assert "example energy" in message.search_fr
    from coffre.mailbox.views import sender_of, type_of

    assert (sender_of(message, "fr"), str(type_of(message, "en"))) == ("Example Energy SA", "Agent")
