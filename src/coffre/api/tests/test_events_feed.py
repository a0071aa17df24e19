"""The event feed (GET /events-api/1.0.0/ebox/enterprise/document/events): what it lists, in which
order, how it pages, every parameter rule, access (alice, charlie, a client without the scope,
nobody) and the audit of each read."""

import datetime as dt
import re

import pytest

from coffre.api.tests.conftest import A, B, ONSS
from coffre.api.tests.event_calls import EVENTS, event, feed, feed_items, submit
from coffre.audit.models import AuditRecord
from coffre.events.models import Event
from coffre.mailbox.models import Message

DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?Z")


def message_ids(items) -> list[str]:
    return [item["eventData"]["messageId"] for item in items]


def read_main_content(world, message_id: str) -> None:
    attachment = world.alice.get(f"ebox/messages/{message_id}/attachments").json()["items"][0]
    assert (
        world.alice.get(
            f"ebox/messages/{message_id}/attachments/{attachment['attachmentId']}/content"
        ).status_code
        == 200
    )


# --- what the feed lists --------------------------------------------------------------------------


def test_a_publication_is_a_new_document_event_with_the_message_facts(world):
    message_id = world.publish_pdf(registeredMail=True)
    message = Message.objects.get(message_id=message_id)
    response = feed(world.alice)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    (item,) = response.json()["EboxEnterpriseDocumentEvents"]
    stored = Event.objects.get(message_id=message_id)
    assert item["eventSequenceNbr"] == stored.sequence
    assert item["eventProviderId"] == "coffre"
    assert DATE_TIME.fullmatch(item["eventTime"])
    assert dt.datetime.fromisoformat(item["eventTime"]) == stored.event_time
    assert item["eventData"] == {
        "eventType": "newDocument",
        "enterpriseId": A,
        "messageId": message_id,
        "receiptDate": item["eventData"]["receiptDate"],
        "expirationDate": item["eventData"]["expirationDate"],
        "registeredMail": True,
        "messageTypeId": "ATTEST",
        "senderOrganizationId": ONSS,
        "senderApplicationId": "DMFA",
        # Translated strings carry nl, fr and de (filled from the language given).
        "subject": {
            "fr": "Attestation trimestrielle",
            "nl": "Attestation trimestrielle",
            "de": "Attestation trimestrielle",
        },
    }
    for key, instant in (("receiptDate", message.receipt_date), ("expirationDate", message.expiration_date)):
        assert DATE_TIME.fullmatch(item["eventData"][key])
        assert dt.datetime.fromisoformat(item["eventData"][key]) == instant
    assert response.json()["pageInfo"] == {"lastSequenceNbr": stored.sequence, "hasNext": False}


def test_reading_the_main_content_adds_a_read_document_event_after_it(world):
    message_id = world.publish_pdf()
    read_main_content(world, message_id)
    items = feed_items(world.alice)
    assert [item["eventData"]["eventType"] for item in items] == ["newDocument", "readDocument"]
    assert items[0]["eventSequenceNbr"] < items[1]["eventSequenceNbr"]
    assert message_ids(items) == [message_id, message_id]


def test_events_come_in_sequence_order_whoever_provided_them(world):
    first = world.publish_pdf()
    assert submit(world.other_sender, [event("theirs-1")]).status_code == 201
    second = world.publish_pdf(content=b"%PDF-1.7 second")
    items = feed_items(world.alice)
    assert message_ids(items) == [first, "dp2-message-1", second]
    assert [item["eventProviderId"] for item in items] == ["coffre", world.other_sender.client_id, "coffre"]
    assert items[1]["eventData"]["eventCorrelationId"] == "theirs-1"
    numbers = [item["eventSequenceNbr"] for item in items]
    assert numbers == sorted(numbers) and len(set(numbers)) == 3


def test_an_empty_feed(world):
    response = feed(world.alice, lastSequenceNbr=41)
    assert response.json() == {
        "EboxEnterpriseDocumentEvents": [],
        "pageInfo": {"lastSequenceNbr": 41, "hasNext": False},
    }


# --- tenancy -----------------------------------------------------------------------------------------


def test_each_enterprise_sees_its_own_events_only(world):
    alices = world.publish_pdf(recipient=A)
    charlies = world.publish_pdf(recipient=B, content=b"%PDF-1.7 for B")
    assert (
        submit(
            world.sender, [event("for-a", messageId="dp-a"), event("for-b", enterpriseId=B, messageId="dp-b")]
        ).status_code
        == 201
    )
    assert message_ids(feed_items(world.alice)) == [alices, "dp-a"]
    assert message_ids(feed_items(world.charlie)) == [charlies, "dp-b"]
    assert {item["eventData"]["enterpriseId"] for item in feed_items(world.charlie)} == {B}
    # Not even by numbers: charlie starting below A's events still gets only B's.
    first_of_a = Event.objects.filter(enterprise__cbe=A).order_by("sequence").first().sequence
    assert message_ids(feed_items(world.charlie, lastSequenceNbr=first_of_a - 1)) == [charlies, "dp-b"]


def test_a_publisher_without_consultation_scope_reads_no_feed(world):
    world.publish_pdf()
    response = feed(world.sender)  # publicationsender + referencedata: an institution's client
    assert response.status_code == 403
    assert response.json()["code"] == "FORBIDDEN"


def test_access(world):
    world.publish_pdf()
    assert feed(world.alice).status_code == 200
    no_scope = feed(world.alice_refdata_only)
    assert no_scope.status_code == 403 and no_scope.json()["code"] == "FORBIDDEN"
    anonymous = world.anonymous.get(EVENTS, {"lastSequenceNbr": 0, "pageSize": 10}, secure=True)
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "UNAUTHORIZED"
    assert anonymous["WWW-Authenticate"].startswith("Bearer")
    wrong = world.anonymous.get(
        EVENTS,
        {"lastSequenceNbr": 0, "pageSize": 10},
        secure=True,
        HTTP_AUTHORIZATION=f"Bearer {world.alice.token}x",
    )
    assert wrong.status_code == 401
    # Without a token, a malformed query is still 401: the token is checked first.
    assert world.anonymous.get(EVENTS, {"pageSize": 0}, secure=True).status_code == 401


def test_client_id_must_be_the_tokens(world):
    world.publish_pdf()
    assert feed(world.alice, clientId=world.alice.client_id).status_code == 200
    response = feed(world.alice, clientId=world.charlie.client_id)
    assert response.status_code == 403
    assert response.json()["code"] == "FORBIDDEN"
    assert feed(world.alice, clientId="").status_code == 403


def test_other_methods_are_refused_with_a_status_message(world):
    response = world.alice.http.put(
        EVENTS,
        "[]",
        content_type="application/json",
        secure=True,
        HTTP_AUTHORIZATION=f"Bearer {world.alice.token}",
    )
    assert response.status_code == 405
    assert response.json()["code"] == "METHOD_NOT_ALLOWED"
    missing = world.alice.http.get("/events-api/1.0.0/nothing", secure=True)
    assert missing.status_code == 404 and missing.json()["code"] == "NOT_FOUND"


# --- paging --------------------------------------------------------------------------------------------


def test_pages_follow_one_another_without_gap_or_duplicate(world):
    published = []
    for number in range(7):
        published.append(world.publish_pdf(content=b"%PDF-1.7 " + bytes([65 + number])))
        world.publish_pdf(recipient=B, content=b"%PDF-1.7 B" + bytes([65 + number]))  # interleaved
    read_main_content(world, published[2])
    everything = feed_items(world.alice)
    assert len(everything) == 8

    seen, last, pages = [], 0, []
    while True:
        response = feed(world.alice, lastSequenceNbr=last, pageSize=3)
        body = response.json()
        items = body["EboxEnterpriseDocumentEvents"]
        pages.append((len(items), body["pageInfo"]["hasNext"]))
        seen += items
        if items:
            assert body["pageInfo"]["lastSequenceNbr"] == items[-1]["eventSequenceNbr"]
            assert all(item["eventSequenceNbr"] > last for item in items)
        last = body["pageInfo"]["lastSequenceNbr"]
        if not body["pageInfo"]["hasNext"]:
            break
    assert pages == [(3, True), (3, True), (2, False)]
    assert seen == everything

    # Polling after the end: nothing, the same position, until something new arrives.
    assert feed(world.alice, lastSequenceNbr=last, pageSize=3).json()["pageInfo"] == {
        "lastSequenceNbr": last,
        "hasNext": False,
    }
    newest = world.publish_pdf(content=b"%PDF-1.7 newest")
    assert message_ids(feed_items(world.alice, lastSequenceNbr=last, pageSize=3)) == [newest]


def test_a_page_holds_exactly_page_size_when_more_follow(world):
    for number in range(3):
        world.publish_pdf(content=b"%PDF-1.7 " + bytes([65 + number]))
    body = feed(world.alice, pageSize=2).json()
    assert len(body["EboxEnterpriseDocumentEvents"]) == 2 and body["pageInfo"]["hasNext"] is True
    body = feed(world.alice, pageSize=3).json()
    assert len(body["EboxEnterpriseDocumentEvents"]) == 3 and body["pageInfo"]["hasNext"] is False


# --- parameters -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"lastSequenceNbr": None},
        {"pageSize": None},
        {"lastSequenceNbr": -1},
        {"lastSequenceNbr": 2**63},
        {"lastSequenceNbr": "one"},
        {"lastSequenceNbr": "1.5"},
        {"pageSize": 0},
        {"pageSize": 1001},
        {"pageSize": "ten"},
        {"startTime": "2026-03-02"},
        {"startTime": "2026-03-02T10:00:00"},  # no offset
        {"startTime": "2026-13-02T10:00:00Z"},
        {"startTime": "yesterday"},
        {"filter": ""},
        {"filter": "bogus"},
        {"filter": "newDocument,"},
        {"filter": "newDocument, readDocument"},
        {"filter": "newdocument"},
    ],
)
def test_malformed_parameters_are_400(world, params):
    response = feed(world.alice, **params)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "INVALID_INPUT"
    assert set(response.json()) >= {"id", "code", "message"}


@pytest.mark.parametrize("params", [{"pageSize": 1}, {"pageSize": 1000}, {"lastSequenceNbr": 2**63 - 1}])
def test_bounds_are_accepted(world, params):
    assert feed(world.alice, **params).status_code == 200


def test_filter_keeps_the_listed_event_types(world):
    first, second = world.publish_pdf(), world.publish_pdf(content=b"%PDF-1.7 two")
    read_main_content(world, second)

    def types(**params):
        return [
            (item["eventData"]["eventType"], item["eventData"]["messageId"])
            for item in feed_items(world.alice, **params)
        ]

    assert types(filter="readDocument") == [("readDocument", second)]
    assert types(filter="newDocument") == [("newDocument", first), ("newDocument", second)]
    assert len(types(filter="readDocument,newDocument")) == 3
    assert types(filter="newDocumentReminder,documentExpirationAlert") == []
    # hasNext counts matching events only.
    body = feed(world.alice, filter="newDocument", pageSize=1).json()
    assert body["pageInfo"]["hasNext"] is True
    last = body["pageInfo"]["lastSequenceNbr"]
    assert (
        feed(world.alice, filter="newDocument", pageSize=1, lastSequenceNbr=last).json()["pageInfo"][
            "hasNext"
        ]
        is False
    )


def test_start_time_keeps_events_written_at_or_after_it(clock, world):
    clock.move_to("2026-01-15T09:00:00+00:00")
    early = world.publish_pdf()
    clock.move_to("2026-01-15T09:20:00+00:00")
    late = world.publish_pdf(content=b"%PDF-1.7 late")
    assert message_ids(feed_items(world.alice, startTime="2026-01-15T09:10:00Z")) == [late]
    assert message_ids(feed_items(world.alice, startTime="2026-01-15T10:20:00+01:00")) == [late]  # inclusive
    assert message_ids(feed_items(world.alice, startTime="2026-01-15T10:20:00.000001+01:00")) == []
    assert message_ids(feed_items(world.alice, startTime="2026-01-15T09:00:00Z")) == [early, late]
    # Both rules apply together.
    first = Event.objects.get(message_id=early).sequence
    assert message_ids(feed_items(world.alice, startTime="2026-01-15T08:00:00Z", lastSequenceNbr=first)) == [
        late
    ]


def test_start_times_beyond_the_calendar_are_every_event_or_none(world):
    message_id = world.publish_pdf()
    assert message_ids(feed_items(world.alice, startTime="0001-01-01T00:00:00+14:00")) == [message_id]
    assert message_ids(feed_items(world.alice, startTime="0001-01-01T00:00:00Z")) == [message_id]
    assert feed_items(world.alice, startTime="9999-12-31T23:59:59-12:00") == []
    assert feed_items(world.alice, startTime="9999-12-31T23:59:59Z") == []


# --- audit -------------------------------------------------------------------------------------------


def test_a_read_is_audited_with_what_it_returned(world):
    world.publish_pdf()
    world.publish_pdf(content=b"%PDF-1.7 two")
    numbers = list(Event.objects.order_by("sequence").values_list("sequence", flat=True))
    feed(world.alice, pageSize=1, lastSequenceNbr=numbers[0] - 1)
    entry = AuditRecord.objects.latest("seq")
    assert (entry.action, entry.method, entry.status, entry.actor, entry.actor_kind) == (
        "getEboxEnterpriseDocumentEvents",
        "GET",
        200,
        world.alice.client_id,
        "api",
    )
    assert entry.token_sha256 and world.alice.token not in str(entry.details)
    assert entry.url.startswith(EVENTS)
    assert entry.details == {
        "lastSequenceNbr": numbers[0] - 1,
        "returned": 1,
        "firstSequenceNbr": numbers[0],
        "lastReturnedSequenceNbr": numbers[0],
    }


def test_refused_reads_are_not_audited(world):
    count = AuditRecord.objects.count()
    assert feed(world.alice, pageSize=0).status_code == 400
    assert feed(world.alice_refdata_only).status_code == 403
    assert AuditRecord.objects.count() == count


def test_the_openapi_description_documents_both_operations(client):
    spec = client.get("/api/openapi.json").json()
    operations = spec["paths"]["/events-api/1.0.0/ebox/enterprise/document/events"]
    assert (operations["get"]["operationId"], operations["post"]["operationId"]) == (
        "getEboxEnterpriseDocumentEvents",
        "submitEboxEnterpriseDocumentEvents",
    )
    parameters = {parameter["name"]: parameter["required"] for parameter in operations["get"]["parameters"]}
    assert parameters == {
        "lastSequenceNbr": True,
        "pageSize": True,
        "startTime": False,
        "clientId": False,
        "filter": False,
    }
    page = spec["components"]["schemas"]["EboxEnterpriseDocumentEventPage"]
    assert set(page["required"]) == {"EboxEnterpriseDocumentEvents", "pageInfo"}
    assert set(operations["post"]["responses"]) >= {"201", "400", "401", "403", "409"}
