"""The consultation profile: summary, list and filters, search, message, attachments, body, payment."""

import datetime as dt
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from coffre.api.tests.conftest import A, B, ONSS, PDF, SPF, b64url_digest, description, pdf_part
from coffre.audit.models import AuditRecord
from coffre.core.cbe import make_cbe
from coffre.mailbox import selectors, store
from coffre.mailbox.models import Message

ANNEX = b"annex,csv\n1,2\n"


def publish_with_annex(world, **overrides) -> str:
    files = {**pdf_part(), "upfile2": ("annex.csv", ANNEX, "text/csv")}
    attachments = [{"httpPartName": "upfile1", "mainContent": True},
                   {"httpPartName": "upfile2", "mainContent": False, "attachmentTitle": {"nl": "Bijlage"}}]
    response = world.sender.publish(description(attachments=attachments, **overrides), files)
    assert response.status_code == 201, response.content
    return response.json()["messageId"]


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["messageId"] for item in response.json()["items"]]


# --- summary --------------------------------------------------------------------------------------


def test_summary_counts_every_available_message(world):
    first = world.publish_pdf()
    world.publish_pdf(content=PDF + b"2")
    world.alice.patch("ebox/messages", {"items": [{"messageId": first, "visible": False}]})
    body = world.alice.get("ebox").json()
    assert body["numberOfMessages"] == 2  # the hidden one counts
    assert body["numberOfUnreadMessages"] == 2
    assert body["eboxSize"] == pytest.approx((len(PDF) * 2 + 1) / 1024, abs=0.01)
    assert "lastReceiptDate" in body


def test_summary_of_an_empty_ebox(world):
    body = world.charlie.get("ebox").json()
    assert body == {"numberOfMessages": 0, "numberOfUnreadMessages": 0, "eboxSize": 0.0}


def test_summary_remembers_the_consultation(world):
    world.alice.get("ebox")
    assert "lastConsultationDate" in world.alice.get("ebox").json()


def test_summary_of_another_ebox_needs_summaryallebox(world):
    response = world.alice.get("ebox", {"eboxIdValue": B})
    assert response.status_code == 403


def test_summary_with_summaryallebox(world, rsa_keys):
    from coffre.api.tests.conftest import _caller
    from coffre.oauth import scopes

    federation = _caller(world.anonymous, list(rsa_keys), 2, SPF, [scopes.SUMMARY_ALL])
    world.publish_pdf(A)
    assert federation.get("ebox", {"eboxIdValue": A}).json()["numberOfMessages"] == 1
    assert federation.get("ebox", {"eboxIdValue": make_cbe(5555555)}).status_code == 404
    assert federation.get("ebox", {"eboxIdValue": "12"}).status_code == 400


# --- list and paging ------------------------------------------------------------------------------


def test_list_newest_first_with_every_field(world):
    first = world.publish_pdf()
    second = publish_with_annex(world)
    response = world.alice.get("ebox/messages")
    assert ids(response) == [second, first]
    item = response.json()["items"][0]
    assert item["subject"] == {"nl": "Attestation trimestrielle", "fr": "Attestation trimestrielle",
                               "de": "Attestation trimestrielle"}
    assert (item["readStatus"], item["visible"], item["registeredMail"]) == (False, True, False)
    assert (item["messageTypeId"], item["senderOrganizationId"], item["senderApplicationId"]) == (
        "ATTEST", ONSS, "DMFA")
    main, annex = item["attachments"]["items"]
    assert item["attachments"]["totalItems"] == 2
    assert main["digest"] == {"digestMethod": "sha_256", "digestValue": b64url_digest(PDF)}
    assert main["contentHref"].startswith("https://testserver/REST/ebox/enterprise/messageRegistry/v2/ebox/messages/")
    assert annex["attachmentTitle"] == {"nl": "Bijlage", "fr": "Bijlage", "de": "Bijlage"}
    assert None not in item.values()


def test_empty_list_is_an_empty_array(world):
    assert world.alice.get("ebox/messages").json() == {"items": [], "totalItems": 0}


def test_paging(world):
    published = [world.publish_pdf(content=PDF + bytes([n])) for n in range(5)][::-1]
    assert ids(world.alice.get("ebox/messages", {"pageSize": 2})) == published[:2]
    assert ids(world.alice.get("ebox/messages", {"pageSize": 2, "page": 3})) == published[4:]
    beyond = world.alice.get("ebox/messages", {"pageSize": 2, "page": 4})
    assert beyond.json() == {"items": [], "totalItems": 5}


@pytest.mark.parametrize("deep_offset", [0, 10_000])
def test_deep_pages_are_the_same_pages(world, monkeypatch, deep_offset):
    # From DEEP_OFFSET on, a page is found by its ids first: both ways give the same pages.
    monkeypatch.setattr(selectors, "DEEP_OFFSET", deep_offset)
    published = [world.publish_pdf(content=PDF + bytes([n])) for n in range(6)][::-1]
    Message.objects.filter(message_id=published[2]).update(expiration_date=timezone.now() - dt.timedelta(days=1))
    available = published[:2] + published[3:]
    assert ids(world.alice.get("ebox/messages", {"pageSize": 2, "page": 2})) == available[2:4]
    assert ids(world.alice.get("ebox/messages", {"pageSize": 2, "page": 3})) == available[4:]
    assert world.alice.get("ebox/messages", {"pageSize": 2, "page": 3}).json()["totalItems"] == 5


def test_a_page_takes_the_same_queries_whatever_its_size(world):
    for n in range(5):
        publish_with_annex(world, subject={"fr": f"Avis {n}"})
    world.alice.get("ebox/messages")  # the consultation time is noted once a minute
    with CaptureQueriesContext(connection) as two:
        assert len(ids(world.alice.get("ebox/messages", {"pageSize": 2}))) == 2
    with CaptureQueriesContext(connection) as five:
        assert len(ids(world.alice.get("ebox/messages", {"pageSize": 5}))) == 5
    assert len(five.captured_queries) == len(two.captured_queries)


@pytest.mark.parametrize(
    "params",
    [
        {"page": 0}, {"page": -1}, {"page": "one"}, {"pageSize": 0}, {"pageSize": 101},
        {"receivedBefore": "01/07/2017"}, {"receivedAfter": "2017-13-01"}, {"expiredBefore": "tomorrow"},
        {"readStatus": "maybe"}, {"q": "attest"}, {"q": "attest", "qlang": "it"}, {"page": 2**31},
    ],
)
def test_syntactically_wrong_criteria(world, params):
    response = world.alice.get("ebox/messages", params)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "INVALID_INPUT"


def test_absurd_criteria_give_an_empty_list(world):
    world.publish_pdf()
    assert ids(world.alice.get("ebox/messages", {"receivedAfter": "2060-01-01"})) == []
    assert ids(world.alice.get("ebox/messages", {"messageTypeId": "NOPE"})) == []


def test_filters_apply_together(world):
    attest = world.publish_pdf()
    reminder = world.publish_pdf(messageTypeId="REMINDER", senderApplicationId=..., content=PDF + b"r")
    registered = world.publish_pdf(registeredMail=True, content=PDF + b"x")
    world.alice.get(f"ebox/messages/{attest}/attachments/{_main(world, attest)}/content")  # read it
    world.alice.patch("ebox/messages", {"items": [{"messageId": reminder, "visible": False}]})

    def listed(**params):
        return set(ids(world.alice.get("ebox/messages", params)))

    assert listed(readStatus="true") == {attest}
    assert listed(readStatus="false") == {reminder, registered}
    assert listed(visible="false") == {reminder}
    assert listed(registeredMail="true") == {registered}
    assert listed(messageTypeId="REMINDER") == {reminder}
    assert listed(senderApplicationId="DMFA") == {attest, registered}
    assert listed(senderOrganizationId=ONSS) == {attest, reminder, registered}
    assert listed(senderOrganizationId=SPF) == set()
    assert listed(messageTypeId="ATTEST", readStatus="false") == {registered}


def test_date_filters(world):
    world.publish_pdf()
    today = timezone.localdate()
    tomorrow = today + dt.timedelta(days=1)
    assert len(ids(world.alice.get("ebox/messages", {"receivedAfter": today.isoformat()}))) == 1
    assert ids(world.alice.get("ebox/messages", {"receivedAfter": tomorrow.isoformat()})) == []
    assert ids(world.alice.get("ebox/messages", {"receivedBefore": today.isoformat()})) == []
    assert len(ids(world.alice.get("ebox/messages", {"receivedBefore": tomorrow.isoformat()}))) == 1
    in_two_years = (today + dt.timedelta(days=730)).isoformat()
    assert len(ids(world.alice.get("ebox/messages", {"expiredBefore": in_two_years}))) == 1
    assert ids(world.alice.get("ebox/messages", {"expiredAfter": in_two_years})) == []


def test_the_first_day_of_the_calendar_is_a_valid_criterion(world):
    # 0001-01-01 00:00 in Brussels (UTC+00:17:30 then) is before the first instant a datetime holds.
    message_id = world.publish_pdf()
    assert ids(world.alice.get("ebox/messages", {"receivedBefore": "0001-01-01"})) == []
    assert ids(world.alice.get("ebox/messages", {"receivedAfter": "0001-01-01"})) == [message_id]
    assert ids(world.alice.get("ebox/messages", {"expiredBefore": "0001-01-01"})) == []
    assert ids(world.alice.get("ebox/messages", {"expiredAfter": "0001-01-01"})) == [message_id]
    assert ids(world.alice.get("ebox/messages", {"receivedBefore": "9999-12-31"})) == [message_id]


def _main(world, message_id) -> str:
    items = world.alice.get(f"ebox/messages/{message_id}/attachments").json()["items"]
    return next(item["attachmentId"] for item in items if item["mainContent"])


# --- text search ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query, found",
    [("helene", True), ("COTISATION TRI", True), ("ène", True), ("trimestrielle de Rappel", False),
     ("cotisation  trimestrielle", False), ("50%", False), ("_", False)],
)
def test_the_official_search_examples(world, query, found):
    message = world.publish_pdf(subject={"fr": "Rappel: cotisation trimestrielle de Hélène"})
    result = ids(world.alice.get("ebox/messages", {"q": query, "qlang": "fr"}))
    assert result == ([message] if found else [])


def test_search_looks_in_the_language_asked(world):
    message = world.publish_pdf(subject={"fr": "Facture", "nl": "Factuur"})
    assert ids(world.alice.get("ebox/messages", {"q": "factuur", "qlang": "nl"})) == [message]
    assert ids(world.alice.get("ebox/messages", {"q": "factuur", "qlang": "fr"})) == []
    # German was not given: it is filled from French, and searched as such
    assert ids(world.alice.get("ebox/messages", {"q": "facture", "qlang": "de"})) == [message]


def test_search_covers_business_data_attention_and_reference_data(world):
    message = world.publish_pdf(
        subject={"fr": "Sujet"},
        businessDataList=[{"key": "dossier", "values": [{"fr": "Dossier 2024-0042"}]}],
        forTheAttentionOf={"id": "85073100145", "type": "INSS", "name": "Jean Dupont"},
    )

    def search(query, lang="fr"):
        return ids(world.alice.get("ebox/messages", {"q": query, "qlang": lang}))

    assert search("2024-0042") == [message]
    assert search("dupont") == [message]
    assert search("85073100145") == [message]
    assert search("rijksdienst", "nl") == [message]  # sender organization's long name in Dutch
    assert search("rijksdienst", "fr") == []
    assert search("multifunctionele", "nl") == [message]  # application description
    assert search("bescheinigung", "de") == [message]  # message type name
    assert search("catalog") == []  # attachment contents are not searched


def test_an_empty_q_does_not_filter(world):
    message = world.publish_pdf()
    assert ids(world.alice.get("ebox/messages", {"q": "", "qlang": "fr"})) == [message]


# --- one message ----------------------------------------------------------------------------------


def test_get_a_message(world):
    message_id = publish_with_annex(world, businessDataList=[{"key": "k", "values": [{"fr": "v"}]}])
    body = world.alice.get(f"ebox/messages/{message_id}").json()
    assert body["messageId"] == message_id
    assert body["businessDataList"]["items"][0] == {
        "key": "k", "name": {"nl": "k", "fr": "k", "de": "k"}, "values": [{"nl": "v", "fr": "v", "de": "v"}]}


def test_unknown_message(world):
    response = world.alice.get("ebox/messages/does-not-exist")
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"


def test_attachments_of_a_message(world):
    message_id = publish_with_annex(world)
    body = world.alice.get(f"ebox/messages/{message_id}/attachments").json()
    assert body["totalItems"] == 2
    annex_id = body["items"][1]["attachmentId"]
    annex = world.alice.get(f"ebox/messages/{message_id}/attachments/{annex_id}").json()
    assert (annex["fileName"], annex["mediaType"], annex["mainContent"]) == ("annex.csv", "text/csv", False)
    assert world.alice.get(f"ebox/messages/{message_id}/attachments/nope").status_code == 404


def test_content_is_streamed_with_safe_headers_and_the_main_one_marks_read(world):
    message_id = publish_with_annex(world)
    main, annex = world.alice.get(f"ebox/messages/{message_id}/attachments").json()["items"]

    response = world.alice.get(f"ebox/messages/{message_id}/attachments/{annex['attachmentId']}/content")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == ANNEX
    assert response["Content-Type"] == "text/csv"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert response["Content-Disposition"].startswith("attachment;")
    assert world.alice.get(f"ebox/messages/{message_id}").json()["readStatus"] is False  # an annex

    response = world.alice.get(f"ebox/messages/{message_id}/attachments/{main['attachmentId']}/content")
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Length"] == str(len(PDF))
    assert world.alice.get(f"ebox/messages/{message_id}").json()["readStatus"] is True
    entry = AuditRecord.objects.filter(action="getAttachmentContentById").latest("seq")
    assert entry.details["markedRead"] is True and entry.details["size"] == len(PDF)


def test_tampered_content_is_never_served(world):
    message_id = world.publish_pdf()
    main = _main(world, message_id)
    blob = Message.objects.get(message_id=message_id).attachments.get().blob
    path = Path(store.blob_storage().path(blob.storage_name))
    raw = bytearray(path.read_bytes())
    raw[-20] ^= 0xFF
    path.write_bytes(bytes(raw))
    response = world.alice.get(f"ebox/messages/{message_id}/attachments/{main}/content")
    assert response.status_code == 500
    assert response.json()["code"] == "INTEGRITY_ERROR"
    assert world.alice.get(f"ebox/messages/{message_id}").json()["readStatus"] is False


def test_body_main_content_marks_read(world):
    response = world.sender.publish(
        description(attachments=..., bodyMainContent=True, bodyContent={"nl": "Uw attest"}))
    message_id = response.json()["messageId"]
    assert world.alice.get(f"ebox/messages/{message_id}/body").json() == {
        "nl": "Uw attest", "fr": "Uw attest", "de": "Uw attest"}
    assert world.alice.get(f"ebox/messages/{message_id}").json()["readStatus"] is True


def test_a_body_annex_does_not_mark_read_and_no_body_is_404(world):
    with_body = world.publish_pdf(bodyContent={"fr": "Annexe"})
    without = world.publish_pdf(content=PDF + b"2")
    assert world.alice.get(f"ebox/messages/{with_body}/body").status_code == 200
    assert world.alice.get(f"ebox/messages/{with_body}").json()["readStatus"] is False
    assert world.alice.get(f"ebox/messages/{without}/body").status_code == 404


def test_payment_data(world):
    paying = world.publish_pdf(paymentData={
        "amount": 100.5, "vatAmount": 21.1, "currency": "EUR", "dueDate": "2030-01-31T00:00:00+01:00",
        "iban": "BE68 5390 0754 7034"})
    body = world.alice.get(f"ebox/messages/{paying}/paymentData").json()
    assert body["amount"] == 100.5 and body["vatAmount"] == 21.1 and body["iban"] == "BE68539007547034"
    assert body["dueDate"] == "2030-01-30T23:00:00Z"
    assert body["paymentDataId"]
    not_paying = world.publish_pdf(content=PDF + b"2")
    assert world.alice.get(f"ebox/messages/{not_paying}/paymentData").status_code == 404


# --- visibility -----------------------------------------------------------------------------------


def test_hide_and_show(world):
    first, second = world.publish_pdf(), world.publish_pdf(content=PDF + b"2")
    response = world.alice.patch("ebox/messages", {"items": [{"messageId": first, "visible": False},
                                                             {"messageId": second, "visible": False}]})
    assert response.status_code == 200
    assert set(ids(world.alice.get("ebox/messages", {"visible": "false"}))) == {first, second}
    world.alice.patch("ebox/messages", {"items": [{"messageId": first, "visible": True}]}, "application/json")
    assert ids(world.alice.get("ebox/messages", {"visible": "true"})) == [first]
    assert AuditRecord.objects.filter(action="patchMessages").count() == 2


def test_hiding_is_all_or_nothing(world):
    message_id = world.publish_pdf()
    response = world.alice.patch("ebox/messages", {"items": [{"messageId": message_id, "visible": False},
                                                             {"messageId": "unknown", "visible": False}]})
    assert response.status_code == 404
    assert world.alice.get(f"ebox/messages/{message_id}").json()["visible"] is True


@pytest.mark.parametrize("body", [{}, {"items": [{"messageId": "x"}]}, {"items": "no"},
                                  {"items": [{"messageId": "x", "visible": True}, {"messageId": "x", "visible": False}]}])
def test_malformed_patch(world, body):
    assert world.alice.patch("ebox/messages", body).status_code == 400
    refused = AuditRecord.objects.latest("seq")
    assert (refused.action, refused.status, refused.method) == ("patchMessages", 400, "PATCH")


@pytest.mark.parametrize("visible", ["no", "false", 0, 1])
def test_visible_must_be_a_json_boolean(world, visible):
    message_id = world.publish_pdf()
    response = world.alice.patch("ebox/messages", {"items": [{"messageId": message_id, "visible": visible}]})
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "INVALID_INPUT"
    assert world.alice.get(f"ebox/messages/{message_id}").json()["visible"] is True


def test_a_nul_character_in_a_patch_body_is_refused(world):
    message_id = world.publish_pdf()
    response = world.alice.patch("ebox/messages", {"items": [{"messageId": message_id, "visible": False},
                                                             {"messageId": "x\u0000", "visible": False}]})
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "INVALID_INPUT"
    assert world.alice.get(f"ebox/messages/{message_id}").json()["visible"] is True


@pytest.mark.parametrize("path, params", [
    ("ebox/messages", {"messageTypeId": "ATTEST\x00"}),
    ("ebox/messages", {"senderOrganizationId": "\x00"}),
    ("ebox/messages/\x00", None),
    ("ebox/messages/x/attachments/\x00/content", None),
    ("referenceData/messageTypes/ATTEST\x00", None),
])
def test_a_nul_character_in_the_url_is_refused(world, path, params):
    # PostgreSQL cannot compare with U+0000: without this check, a 500 there (and 200/404 on SQLite).
    response = world.alice.get(path, params)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "INVALID_INPUT"


def test_malformed_json_patch(world):
    response = world.alice.http.patch("/REST/ebox/enterprise/messageRegistry/v2/ebox/messages", "{oops",
                                      content_type="application/merge-patch+json", secure=True,
                                      HTTP_AUTHORIZATION=f"Bearer {world.alice.token}")
    assert response.status_code == 400


# --- expiry ---------------------------------------------------------------------------------------


def test_expired_messages_are_gone(world):
    message_id = world.publish_pdf(messageTypeId="REMINDER", senderApplicationId=...)
    # 30 days later (the token's lifetime is one hour: move the message, not the clock)
    Message.objects.filter(message_id=message_id).update(expiration_date=timezone.now() - dt.timedelta(seconds=1))
    assert ids(world.alice.get("ebox/messages")) == []
    assert world.alice.get(f"ebox/messages/{message_id}").status_code == 404
    assert world.alice.get("ebox").json()["numberOfMessages"] == 0


def test_expired_messages_leave_the_list_and_every_count(world):
    alive = world.publish_pdf()
    gone = world.publish_pdf(content=PDF + b"gone", messageTypeId="REMINDER", senderApplicationId=...)
    Message.objects.filter(message_id=gone).update(expiration_date=timezone.now() - dt.timedelta(seconds=1))
    listing = world.alice.get("ebox/messages", {"pageSize": 100})
    assert ids(listing) == [alive] and listing.json()["totalItems"] == 1
    for criteria in ({"readStatus": "false"}, {"messageTypeId": "REMINDER"}, {"expiredBefore": "2099-01-01"},
                     {"q": "attestation", "qlang": "fr"}, {"visible": "true"}):
        assert gone not in ids(world.alice.get("ebox/messages", criteria)), criteria
    summary = world.alice.get("ebox").json()
    assert (summary["numberOfMessages"], summary["numberOfUnreadMessages"]) == (1, 1)
    assert summary["eboxSize"] == round(len(PDF) / 1024, 3)
    for path in (f"ebox/messages/{gone}/attachments", f"ebox/messages/{gone}/paymentData"):
        assert world.alice.get(path).status_code == 404
    hide = world.alice.patch("ebox/messages", {"items": [{"messageId": gone, "visible": False}]})
    assert hide.status_code == 404


def test_reads_are_audited(world):
    message_id = world.publish_pdf()
    world.alice.get(f"ebox/messages/{message_id}")
    entry = AuditRecord.objects.latest("seq")
    assert (entry.action, entry.method, entry.status, entry.actor) == (
        "getMessageById", "GET", 200, world.alice.client_id)
    assert entry.url.endswith(f"/ebox/messages/{message_id}")
    count = AuditRecord.objects.count()
    world.alice.get("ebox/messages/unknown")  # a failed read is not audited
    assert AuditRecord.objects.count() == count
