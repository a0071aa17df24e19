"""linkEboxMessage (broadcast, content stored once) and searchMessageStatus (own publications)."""

from coffre.accounts.services import register_enterprise
from coffre.api.tests.conftest import A, ACTOR, B, PDF
from coffre.core.cbe import make_cbe
from coffre.mailbox.models import Blob, Message

C = make_cbe(4000003)


def link(world, message_id, *cbes, caller=None):
    recipients = [{"eboxType": "enterprise", "eboxIdValue": cbe} for cbe in cbes]
    return (caller or world.sender).post_json("linkEboxMessage", {"messageId": message_id, "recipients": recipients})


def test_broadcast_stores_the_content_once(world):
    register_enterprise(C, "Third SA", ACTOR)
    message_id = world.publish_pdf(A, paymentData={
        "amount": 10, "vatAmount": 2.1, "currency": "EUR", "dueDate": "2030-01-31", "iban": "BE68539007547034"})
    response = link(world, message_id, B, C, "0555555523", "12345")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["messageId"] == message_id
    assert body["nbSuccessLinks"] == 2
    assert {case["eboxIdValue"] for case in body["errorCases"]} == {"0555555523", "12345"}
    charlie_sees = world.charlie.get(f"ebox/messages/{message_id}").json()
    assert charlie_sees["messageId"] == message_id
    assert charlie_sees["paymentData"]["iban"] == "BE68539007547034"
    assert Message.objects.filter(message_id=message_id).count() == 3
    assert Blob.objects.count() == 1
    attachment = charlie_sees["attachments"]["items"][0]
    content = world.charlie.get(f"ebox/messages/{message_id}/attachments/{attachment['attachmentId']}/content")
    assert b"".join(content.streaming_content) == PDF


def test_read_state_is_per_ebox(world):
    message_id = world.publish_pdf(A)
    link(world, message_id, B)
    attachment = world.charlie.get(f"ebox/messages/{message_id}/attachments").json()["items"][0]["attachmentId"]
    world.charlie.get(f"ebox/messages/{message_id}/attachments/{attachment}/content")
    assert world.charlie.get(f"ebox/messages/{message_id}").json()["readStatus"] is True
    assert world.alice.get(f"ebox/messages/{message_id}").json()["readStatus"] is False


def test_linking_twice_changes_nothing(world):
    message_id = world.publish_pdf(A)
    assert link(world, message_id, B).json()["nbSuccessLinks"] == 1
    assert link(world, message_id, B, A).json()["nbSuccessLinks"] == 2
    assert Message.objects.filter(message_id=message_id).count() == 2


def test_only_the_publisher_may_link(world):
    message_id = world.publish_pdf(A)
    assert link(world, message_id, B, caller=world.other_sender).status_code == 404
    assert link(world, "unknown", B).status_code == 404
    assert world.alice.post_json("linkEboxMessage", {"messageId": message_id, "recipients": []}).status_code == 403


def test_malformed_link_requests(world):
    message_id = world.publish_pdf(A)
    assert world.sender.post_json("linkEboxMessage", {"messageId": message_id, "recipients": []}).status_code == 400
    assert world.sender.post_json("linkEboxMessage", {"recipients": [{"eboxType": "enterprise",
                                                                      "eboxIdValue": B}]}).status_code == 400


def test_status_of_own_publications(world):
    first = world.publish_pdf(A)
    second = world.publish_pdf(B, content=PDF + b"2")
    attachment = world.alice.get(f"ebox/messages/{first}/attachments").json()["items"][0]["attachmentId"]
    world.alice.get(f"ebox/messages/{first}/attachments/{attachment}/content")
    pairs = [{"messageId": first, "eboxId": {"eboxType": "enterprise", "eboxIdValue": A}},
             {"messageId": second, "eboxId": {"eboxType": "enterprise", "eboxIdValue": B}},
             {"messageId": second, "eboxId": {"eboxType": "enterprise", "eboxIdValue": A}}]
    response = world.sender.post_json("searchMessageStatus", pairs)
    assert response.status_code == 201, response.content
    statuses = {(item["messageId"], item["eboxId"]["eboxIdValue"]): item for item in response.json()}
    assert set(statuses) == {(first, A), (second, B)}
    assert statuses[(first, A)]["readStatus"] is True
    assert statuses[(second, B)]["readStatus"] is False
    assert statuses[(second, B)]["visible"] is True


def test_status_of_someone_elses_publications_is_not_found(world):
    message_id = world.publish_pdf(A)
    pairs = [{"messageId": message_id, "eboxId": {"eboxType": "enterprise", "eboxIdValue": A}}]
    assert world.other_sender.post_json("searchMessageStatus", pairs).status_code == 404
    assert world.alice.post_json("searchMessageStatus", pairs).status_code == 403
    assert world.sender.post_json("searchMessageStatus", []).status_code == 400
    assert world.sender.post_json("searchMessageStatus", {"messageId": "x"}).status_code == 400


def test_description_unchanged_by_broadcast(world):
    message_id = world.publish_pdf(A, subject={"fr": "Avis", "nl": "Bericht"})
    link(world, message_id, B)
    assert world.charlie.get(f"ebox/messages/{message_id}").json()["subject"] == {
        "nl": "Bericht", "fr": "Avis", "de": "Avis"}


def test_a_nul_character_in_a_json_body_is_refused(world):
    message_id = world.publish_pdf(A)
    refused = [
        link(world, message_id + "\u0000", B),
        world.sender.post_json("searchMessageStatus", [
            {"messageId": message_id, "eboxId": {"eboxType": "enterprise", "eboxIdValue": A + "\u0000"}}]),
    ]
    for response in refused:
        assert response.status_code == 400, response.content
        assert response.json()["code"] == "INVALID_INPUT"
    assert Message.objects.filter(message_id=message_id).count() == 1


def test_a_json_body_over_the_size_limit_is_413_not_a_server_error(world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    pairs = [{"messageId": f"m-{n}", "eboxId": {"eboxType": "enterprise", "eboxIdValue": B}} for n in range(40)]
    response = world.sender.post_json("searchMessageStatus", pairs)
    assert response.status_code == 413
    assert response.json()["code"] == "REQUEST_TOO_LARGE"
