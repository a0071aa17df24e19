"""The spaces of an enterprise's box in the portal: the list shows one space at a time (Documents,
Purchases) with every origin, the space's e-mail address, and documents sent by e-mail open and
download like the others."""

import re

from coffre.audit.models import AuditRecord
from coffre.intake.models import IntakeAddress
from coffre.mailbox.tests.conftest import PDF, A, publish
from coffre.mailbox.tests.spaces import file_document


def listed(response) -> list[str]:
    return re.findall(rf'href="/e/{A}/m/([^/"]+)/"', response.content.decode())


def test_the_list_shows_one_space_with_every_origin(portal):
    published = publish()
    documents = file_document(portal.ebox_a, PDF + b"1", subject="Lease contract", sender="owner@example.be")
    purchases = file_document(portal.ebox_a, PDF + b"2", folder="purchases", subject="Supplier invoice")
    bob = portal.client("bob")

    page = bob.get(f"/e/{A}/")
    assert set(listed(page)) == {published.message_id, documents.message_ids[0]}
    text = page.content.decode()
    assert "owner@example.be" in text and "Document by e-mail" in text
    assert 'aria-current="page">Documents</a>' in text

    page = bob.get(f"/e/{A}/", {"folder": "purchases"})
    assert listed(page) == [purchases.message_ids[0]]
    assert 'aria-current="page">Purchases</a>' in page.content.decode()
    # An unknown folder is the e-Box's Documents.
    assert set(listed(bob.get(f"/e/{A}/", {"folder": "nothing"}))) == set(listed(bob.get(f"/e/{A}/")))


def test_the_pages_of_a_space_keep_it(portal):
    for number in range(55):
        file_document(portal.ebox_a, PDF + str(number).encode(), folder="purchases")
    page = portal.client("bob").get(f"/e/{A}/", {"folder": "purchases"})
    following = re.search(r'<a href="([^"]+)" rel="next">', page.content.decode()).group(1)
    assert "folder=purchases" in following


def test_each_space_shows_its_own_address(portal):
    bob = portal.client("bob")
    documents = bob.get(f"/e/{A}/").content.decode()
    purchases = bob.get(f"/e/{A}/", {"folder": "purchases"}).content.decode()
    addresses = {
        address.folder: address.local_part for address in IntakeAddress.objects.filter(ebox=portal.ebox_a)
    }
    assert addresses["documents"].startswith("alice-co.documents.")
    assert addresses["purchases"].startswith("alice-co.purchases.")
    assert f"{addresses['documents']}@intake.localhost" in documents
    assert f"{addresses['purchases']}@intake.localhost" in purchases
    assert "Replace this address" not in documents  # a member does not manage them


def test_an_access_manager_replaces_an_address(portal):
    alice = portal.client("alice")
    assert "Replace this address" in alice.get(f"/e/{A}/", {"folder": "purchases"}).content.decode()
    old = IntakeAddress.objects.get(ebox=portal.ebox_a, folder="purchases").local_part
    response = alice.post(f"/e/{A}/addresses/purchases/regenerate/")
    assert response.status_code == 302 and response["Location"] == f"/e/{A}/?folder=purchases"
    new = IntakeAddress.objects.get(ebox=portal.ebox_a, folder="purchases").local_part
    assert new != old and new.startswith("alice-co.purchases.")
    record = AuditRecord.objects.filter(action="intake.address.regenerated").get()
    assert record.details["previous"] == f"{old}@intake.localhost"
    assert portal.client("bob").post(f"/e/{A}/addresses/purchases/regenerate/").status_code == 403
    assert portal.client("charlie").post(f"/e/{A}/addresses/purchases/regenerate/").status_code == 404
    assert alice.post(f"/e/{A}/addresses/elsewhere/regenerate/").status_code == 404


def test_a_document_sent_by_e_mail_opens_and_downloads(portal):
    filed = file_document(portal.ebox_a, PDF, subject="Supplier invoice", sender="shop@example.be")
    message_id = filed.message_ids[0]
    bob = portal.client("bob")
    page = bob.get(f"/e/{A}/m/{message_id}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Supplier invoice" in text and "shop@example.be" in text
    attachment = re.search(rf"/e/{A}/m/{message_id}/a/([^/]+)/download/", text).group(1)
    download = bob.get(f"/e/{A}/m/{message_id}/a/{attachment}/download/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert portal.client("charlie").get(f"/e/{A}/m/{message_id}/").status_code == 404


def test_hiding_works_on_e_mailed_documents(portal):
    filed = file_document(portal.ebox_a, PDF)
    message_id = filed.message_ids[0]
    response = portal.client("bob").post(f"/e/{A}/visibility/", {"message": message_id, "action": "hide"})
    assert response.status_code == 302
    assert listed(portal.client("bob").get(f"/e/{A}/")) == []
