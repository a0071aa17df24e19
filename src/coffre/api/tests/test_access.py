"""Every consultation endpoint tried by alice (owner), charlie (another enterprise), a client of
alice's enterprise without the scope, and nobody: 200 / 404 / 403 / 401."""

import pytest

from coffre.api.tests.conftest import ROOT


@pytest.fixture
def alices_message(world):
    message_id = world.publish_pdf(paymentData={
        "amount": 1, "vatAmount": 0, "currency": "EUR", "dueDate": "2030-01-01", "iban": "BE68539007547034"})
    attachment = world.alice.get(f"ebox/messages/{message_id}/attachments").json()["items"][0]["attachmentId"]
    return message_id, attachment


ENDPOINTS = [
    "ebox/messages/{m}",
    "ebox/messages/{m}/attachments",
    "ebox/messages/{m}/attachments/{a}",
    "ebox/messages/{m}/attachments/{a}/content",
    "ebox/messages/{m}/paymentData",
]


@pytest.mark.parametrize("template", ENDPOINTS)
def test_each_message_endpoint(world, alices_message, template):
    message_id, attachment = alices_message
    path = template.format(m=message_id, a=attachment)
    assert world.alice.get(path).status_code == 200
    assert world.charlie.get(path).status_code == 404
    assert world.alice_refdata_only.get(path).status_code == 403
    assert world.anonymous.get(ROOT + path, secure=True).status_code == 401


def test_body_endpoint(world):
    response = world.sender.publish({
        "recipient": {"eboxType": "enterprise", "eboxIdValue": world.alice.cbe}, "subject": {"fr": "s"},
        "messageTypeId": "ATTEST", "bodyMainContent": True, "bodyContent": {"fr": "corps"},
        "replyAuthorized": False,
    })
    path = f"ebox/messages/{response.json()['messageId']}/body"
    assert world.charlie.get(path).status_code == 404
    assert world.alice_refdata_only.get(path).status_code == 403
    assert world.alice.get(path).status_code == 200


def test_lists_and_summary(world, alices_message):
    assert world.charlie.get("ebox/messages").json()["totalItems"] == 0
    assert world.charlie.get("ebox").json()["numberOfMessages"] == 0
    assert world.alice.get("ebox/messages").json()["totalItems"] == 1
    assert world.alice_refdata_only.get("ebox/messages").status_code == 403
    assert world.alice_refdata_only.get("ebox").status_code == 403
    assert world.anonymous.get(ROOT + "ebox", secure=True).status_code == 401


def test_charlie_cannot_hide_alices_message(world, alices_message):
    message_id, _ = alices_message
    response = world.charlie.patch("ebox/messages", {"items": [{"messageId": message_id, "visible": False}]})
    assert response.status_code == 404
    assert world.alice.get(f"ebox/messages/{message_id}").json()["visible"] is True


def test_an_expired_or_malformed_authorization(world):
    for header in ["Bearer", "Basic dXNlcjpwYXNz", "Bearer a b", f"Bearer {world.alice.token}x"]:
        response = world.anonymous.get(ROOT + "ebox", secure=True, HTTP_AUTHORIZATION=header)
        assert response.status_code == 401, header
        assert response.json()["code"] == "UNAUTHORIZED"


def test_unknown_paths_get_a_status_message(world):
    response = world.alice.get("ebox/nothing-here")
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"
