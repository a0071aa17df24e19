"""POST /publishMessage: every rule of NOTES.md and every error code."""

import datetime as dt
import json
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from coffre.api.tests.conftest import A, B, ONSS, PDF, ROOT, SPF, b64url_digest, description, pdf_part
from coffre.audit.models import AuditRecord
from coffre.mailbox.models import Attachment, Blob, Message

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


def code_of(response) -> str:
    body = response.json()
    assert set(body) >= {"id", "code", "message"}, body
    return body["code"]


def assert_refused(response, code="INVALID_INPUT", status=400):
    assert response.status_code == status, response.content
    assert code_of(response) == code


def nothing_stored(blob_dir: Path):
    assert not Message.objects.exists()
    assert not Blob.objects.exists()
    assert not [p for p in blob_dir.rglob("*") if p.is_file()]
    assert not [name for name in os.listdir(settings.FILE_UPLOAD_TEMP_DIR) if name.startswith("spool-")]


def test_publish_a_pdf(world):
    before = timezone.now()
    response = world.sender.publish(description(), pdf_part())
    assert response.status_code == 201, response.content
    body = response.json()
    message = Message.objects.get(message_id=body["messageId"])
    assert message.ebox.enterprise.cbe == A
    expiration = dt.datetime.fromisoformat(body["expirationDate"])
    assert before + dt.timedelta(days=364) < expiration < timezone.now() + dt.timedelta(days=367)
    assert body["code"] == "NO_DIGITAL_USER"  # A has never opened its e-Box
    attachment = message.attachments.get()
    assert (attachment.file_name, attachment.media_type, attachment.main_content) == (
        "attestation.pdf", "application/pdf", True)
    assert attachment.blob.size == len(PDF)


def test_no_digital_user_disappears_once_the_ebox_was_consulted(world):
    assert world.alice.get("ebox").status_code == 200
    response = world.sender.publish(description(), pdf_part())
    assert response.status_code == 201
    assert "code" not in response.json()


def test_the_json_part_may_come_last(world):
    response = world.sender.publish(description(), pdf_part(), json_last=True)
    assert response.status_code == 201, response.content


def test_the_json_part_may_be_sent_as_a_file(world):
    data = {
        "messageToPublish": _file("message.json", json.dumps(description()).encode(), "application/json"),
        "upfile1": _file("a.pdf", PDF, "application/pdf"),
    }
    response = world.sender.http.post(ROOT + "publishMessage", data, secure=True,
                                      HTTP_AUTHORIZATION=f"Bearer {world.sender.token}")
    assert response.status_code == 201, response.content


def _file(name, content, media_type):
    return SimpleUploadedFile(name, content, content_type=media_type)


def test_six_files_in_any_order(world):
    files = {f"upfile{n}": (f"annex-{n}.pdf", PDF + bytes([n]), "application/pdf") for n in (6, 2, 4, 1, 3, 5)}
    attachments = [{"httpPartName": f"upfile{n}", "mainContent": n == 3} for n in range(1, 7)]
    response = world.sender.publish(description(attachments=attachments), files)
    assert response.status_code == 201, response.content
    message = Message.objects.get(message_id=response.json()["messageId"])
    assert [a.file_name for a in message.attachments.all()] == [f"annex-{n}.pdf" for n in range(1, 7)]
    assert message.attachments.get(main_content=True).file_name == "annex-3.pdf"


def test_a_seventh_file_is_refused(world, isolated_blob_storage):
    files = {f"upfile{n}": (f"{n}.pdf", PDF, "application/pdf") for n in range(1, 7)}
    files["upfile7"] = ("7.pdf", PDF, "application/pdf")
    attachments = [{"httpPartName": f"upfile{n}", "mainContent": n == 1} for n in range(1, 8)]
    assert_refused(world.sender.publish(description(attachments=attachments), files))
    nothing_stored(isolated_blob_storage)


@pytest.mark.parametrize("padded", [True, False])
def test_a_matching_digest_is_accepted(world, padded):
    digest = {"digestMethod": "sha_256", "digestValue": b64url_digest(PDF, padded)}
    attachments = [{"httpPartName": "upfile1", "mainContent": True, "digest": digest}]
    assert world.sender.publish(description(attachments=attachments), pdf_part()).status_code == 201


def test_a_wrong_digest_is_refused_and_nothing_is_stored(world, isolated_blob_storage):
    digest = {"digestMethod": "sha_256", "digestValue": b64url_digest(b"something else")}
    attachments = [{"httpPartName": "upfile1", "mainContent": True, "digest": digest}]
    assert_refused(world.sender.publish(description(attachments=attachments), pdf_part()), "DIGEST_DO_NOT_MATCH")
    nothing_stored(isolated_blob_storage)


@pytest.mark.parametrize(
    "digest",
    [
        {"digestMethod": "sha_1", "digestValue": b64url_digest(PDF)},
        {"digestMethod": "sha_256", "digestValue": "not base64url!"},
        {"digestMethod": "sha_256"},
    ],
)
def test_a_malformed_digest_is_invalid_input(world, digest):
    attachments = [{"httpPartName": "upfile1", "mainContent": True, "digest": digest}]
    assert_refused(world.sender.publish(description(attachments=attachments), pdf_part()))


@pytest.mark.parametrize(
    "overrides",
    [
        {"attachments": [{"httpPartName": "upfile1", "mainContent": False}]},  # no main content
        {"bodyMainContent": True, "bodyContent": {"fr": "Texte"}},  # two main contents
        {"bodyMainContent": True},  # body as main content, but no body
    ],
)
def test_exactly_one_main_content(world, overrides, isolated_blob_storage):
    assert_refused(world.sender.publish(description(**overrides), pdf_part()))
    nothing_stored(isolated_blob_storage)


def test_two_main_attachments_are_refused(world):
    files = {"upfile1": ("a.pdf", PDF, "application/pdf"), "upfile2": ("b.pdf", PDF + b"2", "application/pdf")}
    attachments = [{"httpPartName": "upfile1", "mainContent": True}, {"httpPartName": "upfile2", "mainContent": True}]
    assert_refused(world.sender.publish(description(attachments=attachments), files))


def test_the_body_may_be_the_main_content_without_attachments(world):
    response = world.sender.publish(
        description(attachments=..., bodyMainContent=True, bodyContent={"fr": "Votre attestation est prête."})
    )
    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    "files, attachments",
    [
        ({}, [{"httpPartName": "upfile1", "mainContent": True}]),  # referenced part missing
        ({"upfile1": ("a.pdf", PDF, "application/pdf"), "upfile2": ("b.pdf", PDF, "application/pdf")},
         [{"httpPartName": "upfile1", "mainContent": True}]),  # a part nobody references
        ({"upfile1": ("a.pdf", PDF, "application/pdf")},
         [{"httpPartName": "upfile1", "mainContent": True}, {"httpPartName": "upfile1", "mainContent": False}]),
        ({"document": ("a.pdf", PDF, "application/pdf")}, [{"httpPartName": "document", "mainContent": True}]),
    ],
)
def test_parts_and_attachments_match_one_to_one(world, files, attachments, isolated_blob_storage):
    assert_refused(world.sender.publish(description(attachments=attachments), files))
    nothing_stored(isolated_blob_storage)


@pytest.mark.parametrize(
    "file_name, content, media_type",
    [
        ("a.exe", b"MZ\x90\x00" + b"\x00" * 100, "application/x-msdownload"),
        ("a.pdf", b"MZ\x90\x00" + b"\x00" * 100, "application/pdf"),  # an executable disguised
        ("run.pdf", b"#!/bin/sh\nrm -rf /\n", "application/pdf"),
        ("a.svg", b"<svg onload='alert(1)'/>", "image/svg+xml"),  # active content
        ("a.js", b"alert(1)", "application/javascript"),
        ("a.bin", PDF, "application/octet-stream"),
        ("empty.pdf", b"", "application/pdf"),
        ("x" * 77 + ".pdf", PDF, "application/pdf"),  # 81 characters
    ],
)
def test_refused_files(world, file_name, content, media_type, isolated_blob_storage):
    response = world.sender.publish(description(), {"upfile1": (file_name, content, media_type)})
    assert_refused(response)
    nothing_stored(isolated_blob_storage)


@pytest.mark.parametrize("media_type", ["image/png", "image/jpeg", "text/csv", "application/zip"])
def test_accepted_media_types(world, media_type):
    response = world.sender.publish(description(), {"upfile1": ("scan", PNG, media_type)})
    assert response.status_code == 201, response.content


def test_a_part_without_content_type_is_refused(world, isolated_blob_storage):
    boundary = "XyZ"
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"messageToPublish\"\r\n\r\n"
        f"{json.dumps(description())}\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"upfile1\"; filename=\"a.pdf\"\r\n\r\n"
    ).encode() + PDF + f"\r\n--{boundary}--\r\n".encode()
    response = world.sender.http.generic(
        "POST", ROOT + "publishMessage", body, content_type=f"multipart/form-data; boundary={boundary}",
        secure=True, HTTP_AUTHORIZATION=f"Bearer {world.sender.token}",
    )
    assert_refused(response)
    assert "Content-Type" in response.json()["message"]
    nothing_stored(isolated_blob_storage)


def test_a_file_part_without_file_name_is_refused(world):
    boundary = "XyZ"
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"messageToPublish\"\r\n\r\n"
        f"{json.dumps(description())}\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"upfile1\"\r\n"
        f"Content-Type: application/pdf\r\n\r\n"
    ).encode() + PDF + f"\r\n--{boundary}--\r\n".encode()
    response = world.sender.http.generic(
        "POST", ROOT + "publishMessage", body, content_type=f"multipart/form-data; boundary={boundary}",
        secure=True, HTTP_AUTHORIZATION=f"Bearer {world.sender.token}",
    )
    assert_refused(response)
    assert "file name" in response.json()["message"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"subject": {"fr": "x" * 256}},
        {"subject": {}},
        {"subject": {"fr": None}},  # null values are refused
        {"forTheAttentionOf": {"id": "85073100145", "name": "n" * 101}},
        {"businessDataList": [{"key": "ref", "values": [{"fr": "é" * 129}]}]},  # 258 bytes
        {"businessDataList": [{"key": "ref"}]},  # values required
        {"recipient": ...},
        {"recipient": {"eboxType": "citizen", "eboxIdValue": "85073100145"}},
        {"recipient": {"eboxType": "enterprise", "eboxIdValue": "0406798007"}},  # bad check digits
        {"recipient": {"eboxType": "enterprise", "eboxIdValue": "0555555523"}},  # no such enterprise
        {"messageTypeId": ...},
        {"replyAuthorized": ...},
        {"bodyMainContent": "false"},  # a string is not a boolean
        {"expirationDate": "2020-01-01T00:00:00Z"},  # in the past
        {"expirationDate": "next week"},
        {"expirationDate": "9999-12-31T23:59:59-05:00"},  # year 10000 in UTC: could not be stored or read
        {"expirationDate": "9999-12-31T23:30:00Z"},  # year 10000 in Brussels
        {"paymentData": {"amount": 10, "vatAmount": 2.1, "currency": "EUR", "dueDate": "0001-01-01T00:00:00+05:00",
                         "iban": "BE68539007547034"}},  # year 0 in UTC
        {"paymentData": {"amount": 10, "vatAmount": 2.1, "currency": "EUR", "dueDate": "2030-01-31",
                         "iban": "BE00 0000 0000 0000"}},  # IBAN check digits
    ],
)
def test_invalid_descriptions(world, overrides, isolated_blob_storage):
    assert_refused(world.sender.publish(description(**overrides), pdf_part()))
    nothing_stored(isolated_blob_storage)


@pytest.mark.parametrize(
    "overrides",
    [
        {"subject": {"fr": "Rappel\u0000"}},
        {"messageTypeId": "ATTEST\u0000"},
        {"originalMessageId": "\u0000"},
        {"forTheAttentionOf": {"id": "85073100145", "name": "H\u0000l\u00e8ne"}},
        {"businessDataList": [{"key": "ref", "values": [{"fr": "\u0000"}]}]},
        {"paymentData": {"amount": 10, "vatAmount": 2.1, "currency": "EUR", "dueDate": "2030-01-31",
                         "iban": "BE68539007547034", "reference": {"free\u0000": "x"}}},  # a property name
    ],
)
def test_a_nul_character_anywhere_in_the_description_is_refused(world, overrides, isolated_blob_storage):
    # PostgreSQL cannot store U+0000 (text, jsonb): without this check, a 500 there.
    response = world.sender.publish(description(**overrides), pdf_part())
    assert_refused(response)
    assert "NUL" in response.json()["message"]
    nothing_stored(isolated_blob_storage)


def test_text_at_the_limits_is_accepted(world):
    response = world.sender.publish(
        description(
            subject={"fr": "x" * 255},
            forTheAttentionOf={"id": "85073100145", "type": "INSS", "name": "n" * 100},
            businessDataList=[{"key": "ref", "values": [{"fr": "é" * 128}]}],
        ),
        pdf_part(name="x" * 76 + ".pdf"),
    )
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("text", ["{not json", "[]", '"a string"'])
def test_a_description_that_is_not_a_json_object(world, text):
    assert_refused(world.sender.publish(text, pdf_part()))


def test_a_missing_description_is_refused(world):
    response = world.sender.http.post(
        ROOT + "publishMessage", {"upfile1": _file("a.pdf", PDF, "application/pdf")}, secure=True,
        HTTP_AUTHORIZATION=f"Bearer {world.sender.token}",
    )
    assert_refused(response)


def test_json_instead_of_multipart_is_refused(world):
    assert_refused(world.sender.post_json("publishMessage", description()))


@pytest.mark.parametrize(
    "overrides",
    [
        {"senderOrganizationId": SPF},  # not the token's enterprise
        {"senderApplicationId": "UNKNOWN"},
        {"messageTypeId": "UNKNOWN"},
        {"messageTypeId": "REMINDER"},  # REMINDER is not an application DMFA type
        {"senderOrganizationId": "0406798007"},
    ],
)
def test_invalid_sender(world, overrides, isolated_blob_storage):
    assert_refused(world.sender.publish(description(**overrides), pdf_part()), "INVALID_SENDER")
    nothing_stored(isolated_blob_storage)


def test_another_institution_cannot_use_a_type_it_is_not_allowed(world):
    response = world.other_sender.publish(
        description(senderOrganizationId=SPF, senderApplicationId=..., messageTypeId="ATTEST"), pdf_part()
    )
    assert_refused(response, "INVALID_SENDER")


def test_an_application_of_another_institution_is_refused(world, isolated_blob_storage):
    from coffre.audit.services import Actor
    from coffre.mailbox import reference

    # A type both institutions may send through DMFA: only the application's own link refuses SPF.
    reference.set_message_type(
        "SHARED", Actor.cli("test"), name={"fr": "Commun"}, validity_number=1, validity_unit="year",
        organizations=[ONSS, SPF], applications=["DMFA"],
    )
    response = world.other_sender.publish(
        description(senderOrganizationId=SPF, senderApplicationId="DMFA", messageTypeId="SHARED"), pdf_part()
    )
    assert_refused(response, "INVALID_SENDER")
    nothing_stored(isolated_blob_storage)


def test_an_inactive_recipient_is_refused(world):
    from coffre.accounts.services import register_enterprise
    from coffre.audit.services import Actor

    register_enterprise(B, "Charlie SRL", Actor.cli("test"), active=False)
    assert_refused(world.sender.publish(description(recipient=B), pdf_part()))


def test_a_revoked_authorisation_refuses_the_very_next_publication(world, isolated_blob_storage):
    """No cache between the reference data and publication: the next request sees the change."""
    from coffre.audit.services import Actor
    from coffre.mailbox import reference

    assert world.sender.publish(description(), pdf_part()).status_code == 201
    reference.set_message_type(  # ATTEST no longer through DMFA
        "ATTEST", Actor.cli("test"), name={"fr": "Attestation", "nl": "Attest", "de": "Bescheinigung"},
        validity_number=1, validity_unit="year", organizations=[ONSS], applications=[],
    )
    assert_refused(world.sender.publish(description(), pdf_part(b"%PDF-1.7 other")), "INVALID_SENDER")
    assert world.sender.publish(description(senderApplicationId=...), pdf_part(b"%PDF-1.7 other")).status_code == 201
    reference.set_message_type(  # and no longer for ONSS at all
        "ATTEST", Actor.cli("test"), name={"fr": "Attestation"}, validity_number=1, validity_unit="year",
        organizations=[SPF],
    )
    assert_refused(world.sender.publish(description(senderApplicationId=...), pdf_part(b"%PDF-1.7 third")),
                   "INVALID_SENDER")
    assert Message.objects.count() == 2


def test_a_recipient_deactivated_meanwhile_is_refused_at_once(world):
    from coffre.accounts.services import register_enterprise
    from coffre.audit.services import Actor

    assert world.sender.publish(description(recipient=B), pdf_part()).status_code == 201
    register_enterprise(B, "Charlie SRL", Actor.cli("test"), active=False)
    assert_refused(world.sender.publish(description(recipient=B), pdf_part()))


def test_beyond_the_official_implementation(world):
    """Several languages, payment data, an explicit expiration date, a body annex."""
    response = world.sender.publish(
        description(
            subject={"fr": "Avis de paiement", "nl": "Betalingsbericht", "de": "Zahlungsaufforderung"},
            expirationDate="2031-06-30T23:59:59+02:00",
            bodyContent={"fr": "Voir l'annexe", "nl": "Zie bijlage"},
            paymentData={
                "paymentDataId": "PAY-1", "amount": 100.0, "vatAmount": 21.0, "currency": "EUR",
                "dueDate": "2030-01-31T00:00:00+01:00", "iban": "BE68539007547034", "bic": "GKCCBEBB",
                "reference": {"structured": "+++090/9337/55493+++"},
            },
            originalMessageId="a-previous-message",
            registeredMail=True,
            replyAuthorized=True,
        ),
        pdf_part(),
    )
    assert response.status_code == 201, response.content
    assert response.json()["expirationDate"] == "2031-06-30T21:59:59Z"
    message = Message.objects.get(message_id=response.json()["messageId"])
    assert message.subject == {"fr": "Avis de paiement", "nl": "Betalingsbericht", "de": "Zahlungsaufforderung"}
    assert message.payment_data.iban == "BE68539007547034"
    assert (message.original_message_id, message.registered_mail, message.reply_authorized) == (
        "a-previous-message", True, True)


def test_the_same_document_twice_is_stored_once(world):
    first = world.publish_pdf()
    second = world.publish_pdf()
    assert first != second
    assert Blob.objects.count() == 1
    assert Attachment.objects.filter(blob=Blob.objects.get()).count() == 2


def test_publication_is_audited_with_its_attachments(world):
    message_id = world.publish_pdf()
    entry = AuditRecord.objects.filter(action="publishMessage").latest("seq")
    assert entry.status == 201
    assert entry.actor == world.sender.client_id
    assert entry.token_sha256 and world.sender.token not in json.dumps(entry.details)
    assert entry.details["messageId"] == message_id
    (attachment,) = entry.details["attachments"]
    assert attachment["mediaType"] == "application/pdf" and attachment["size"] == len(PDF)


def test_a_refused_publication_is_audited_too(world):
    world.sender.publish(description(senderOrganizationId=SPF), pdf_part())
    entry = AuditRecord.objects.latest("seq")
    assert (entry.action, entry.status, entry.details) == ("postMessage", 400, {"error": "INVALID_SENDER"})


def test_without_a_token(world, isolated_blob_storage):
    response = world.anonymous.post(ROOT + "publishMessage", {"messageToPublish": json.dumps(description())},
                                    secure=True)
    assert_refused(response, "UNAUTHORIZED", 401)
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert AuditRecord.objects.latest("seq").status == 401  # write attempts are audited
    nothing_stored(isolated_blob_storage)


def test_with_an_unknown_token(world):
    world.sender.token = "forged-token"
    assert_refused(world.sender.publish(description(), pdf_part()), "UNAUTHORIZED", 401)


def test_without_the_publication_scope(world, isolated_blob_storage):
    response = world.alice.publish(description(senderOrganizationId=A), pdf_part())
    assert_refused(response, "FORBIDDEN", 403)
    nothing_stored(isolated_blob_storage)


def test_an_oversized_request_is_refused_before_reading(world, settings, isolated_blob_storage):
    settings.COFFRE_MAX_REQUEST_BYTES = 10_000
    response = world.sender.publish(description(), pdf_part(PDF * 10))
    assert_refused(response, "REQUEST_TOO_LARGE", 413)
    nothing_stored(isolated_blob_storage)


def test_a_message_is_visible_only_once_committed(world, isolated_blob_storage, monkeypatch):
    """A failure inside the transaction (its last statement: the audit record, after the message,
    its blob and attachment rows) leaves no message and removes the stored content."""
    from coffre.mailbox import services

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "record", broken)
    response = world.sender.publish(description(), pdf_part())
    assert response.status_code == 500
    assert code_of(response) == "INTERNAL_ERROR"
    nothing_stored(isolated_blob_storage)


def test_recipient_nine_digits_is_padded(world):
    response = world.sender.publish(description(recipient=A[1:]), pdf_part())
    assert response.status_code == 201, response.content
    assert Message.objects.get().ebox.enterprise.cbe == A


def test_sender_defaults_to_the_token_enterprise(world):
    response = world.sender.publish(description(senderOrganizationId=...), pdf_part())
    assert response.status_code == 201, response.content
    assert Message.objects.get().sender_organization.organization_id == ONSS


def test_charlie_receives_nothing_of_alice(world):
    world.publish_pdf(A)
    assert world.charlie.get("ebox/messages").json() == {"items": [], "totalItems": 0}
    assert B != A
