"""Submitting events (POST /events-api/1.0.0/ebox/enterprise/document/events): every rule of the
body, idempotency by eventCorrelationId per provider, atomicity, who may submit as whom, and the
audit of every attempt."""

import json

import pytest

from coffre.accounts.models import Enterprise
from coffre.api.tests.conftest import A, B
from coffre.api.tests.event_calls import EVENTS, event, feed_items, submit
from coffre.audit.models import AuditRecord
from coffre.core.cbe import make_cbe
from coffre.events.models import Event


def stored(**filters) -> list[Event]:
    return list(Event.objects.filter(**filters).order_by("sequence"))


# --- storing --------------------------------------------------------------------------------------


def test_submitted_events_are_stored_under_the_submitting_client(world):
    response = submit(world.sender, [event("corr-1"), event("corr-2", eventType="readDocument")])
    assert response.status_code == 201, response.content
    assert response.json() == {"eventsCreated": 2, "eventsAlreadyStored": 0}
    first, second = stored(provider_id=world.sender.client_id)
    assert (first.correlation_id, first.event_type, second.correlation_id, second.event_type) == (
        "corr-1",
        "newDocument",
        "corr-2",
        "readDocument",
    )
    assert first.enterprise.cbe == A
    assert (
        first.message_id,
        first.message_type_id,
        first.sender_organization_id,
        first.sender_application_id,
    ) == ("dp2-message-1", "TAXNOTICE", "0308357159", "TAXONWEB")
    assert first.subject == {"fr": "Avertissement-extrait de rôle", "nl": "Aanslagbiljet"}
    assert first.receipt_date.isoformat() == "2026-03-02T09:00:00+00:00"
    assert first.registered_mail is False
    # Follow-ups are planned for this registry's own messages only.
    assert [(event.reminder_due, event.alert_due) for event in (first, second)] == [
        (None, None),
        (None, None),
    ]


def test_alice_reads_what_another_provider_submitted_for_her(world):
    assert (
        submit(world.other_sender, [event("x-1", registeredMail=True, subject={"nl": "Aanslag"})]).status_code
        == 201
    )
    (item,) = feed_items(world.alice)
    assert item["eventProviderId"] == world.other_sender.client_id
    assert item["eventData"] == {
        "eventType": "newDocument",
        "eventCorrelationId": "x-1",
        "enterpriseId": A,
        "messageId": "dp2-message-1",
        "receiptDate": "2026-03-02T09:00:00Z",
        "expirationDate": "2027-03-02T09:00:00Z",
        "registeredMail": True,
        "messageTypeId": "TAXNOTICE",
        "senderOrganizationId": "0308357159",
        "senderApplicationId": "TAXONWEB",
        "subject": {"nl": "Aanslag", "fr": "Aanslag", "de": "Aanslag"},
    }
    assert feed_items(world.charlie) == []


def test_only_the_required_properties(world):
    minimal = event(None, messageTypeId=..., senderOrganizationId=..., senderApplicationId=..., subject=...)
    assert submit(world.sender, [minimal]).status_code == 201
    (item,) = feed_items(world.alice)
    assert set(item["eventData"]) == {
        "eventType",
        "enterpriseId",
        "messageId",
        "receiptDate",
        "expirationDate",
        "registeredMail",
    }


def test_unknown_properties_are_ignored(world):
    assert (
        submit(
            world.sender, [{**event(), "somethingElse": None, "subject": {"fr": "x", "it": None}}]
        ).status_code
        == 201
    )


def test_an_empty_list_stores_nothing(world):
    response = submit(world.sender, [])
    assert response.status_code == 201
    assert response.json() == {"eventsCreated": 0, "eventsAlreadyStored": 0}
    assert not Event.objects.exists()


# --- idempotency ----------------------------------------------------------------------------------------


def test_a_replay_stores_nothing_new(world):
    batch = [event("corr-1"), event("corr-2", messageId="dp2-message-2")]
    assert submit(world.sender, batch).status_code == 201
    numbers = [item.sequence for item in stored()]
    again = submit(world.sender, batch)
    assert again.status_code == 201
    assert again.json() == {"eventsCreated": 0, "eventsAlreadyStored": 2}
    assert [item.sequence for item in stored()] == numbers


def test_a_replay_may_write_the_same_instants_differently(world):
    assert submit(world.sender, [event("corr-1")]).status_code == 201
    same = event(
        "corr-1",
        receiptDate="2026-03-02T09:00:00Z",
        expirationDate="2027-03-02T09:00:00.000+00:00",
        subject={"nl": "Aanslagbiljet", "fr": "Avertissement-extrait de rôle", "de": ""},
    )
    assert submit(world.sender, [same]).json() == {"eventsCreated": 0, "eventsAlreadyStored": 1}


def test_a_replay_with_new_events_stores_the_new_ones(world):
    assert submit(world.sender, [event("corr-1")]).status_code == 201
    response = submit(world.sender, [event("corr-1"), event("corr-2")])
    assert response.json() == {"eventsCreated": 1, "eventsAlreadyStored": 1}
    assert [item.correlation_id for item in stored()] == ["corr-1", "corr-2"]


@pytest.mark.parametrize(
    "change",
    [
        {"subject": {"fr": "Autre chose"}},
        {"eventType": "readDocument"},
        {"enterpriseId": B},
        {"messageId": "another"},
        {"receiptDate": "2026-03-02T10:00:01+01:00"},
        {"expirationDate": "2027-03-03T10:00:00+01:00"},
        {"registeredMail": True},
        {"messageTypeId": "OTHER"},
        {"senderOrganizationId": ...},
        {"senderApplicationId": "X"},
    ],
)
def test_the_same_correlation_id_with_another_content_is_a_conflict_and_stores_nothing(world, change):
    assert submit(world.sender, [event("corr-1")]).status_code == 201
    before = AuditRecord.objects.count()
    response = submit(world.sender, [event("corr-new", messageId="m-new"), event("corr-1", **change)])
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["code"] == "IDEMPOTENCY_VIOLATION" and "'corr-1'" in body["message"]
    assert [item.correlation_id for item in stored()] == ["corr-1"]  # corr-new was not stored either
    (entry,) = AuditRecord.objects.filter(seq__gt=before)
    assert (entry.action, entry.status, entry.actor) == (
        "submitEboxEnterpriseDocumentEvents",
        409,
        world.sender.client_id,
    )
    assert entry.details == {"error": "IDEMPOTENCY_VIOLATION", "eventCorrelationIds": ["corr-1"]}


def test_a_conflict_inside_one_request(world):
    response = submit(world.sender, [event("corr-1"), event("corr-1", messageId="other")])
    assert response.status_code == 409
    assert not Event.objects.exists()


def test_a_repeat_inside_one_request_is_stored_once(world):
    response = submit(world.sender, [event("corr-1"), event("corr-1")])
    assert response.json() == {"eventsCreated": 1, "eventsAlreadyStored": 0}
    assert len(stored()) == 1


def test_correlation_ids_belong_to_their_provider(world):
    assert submit(world.sender, [event("corr-1")]).status_code == 201
    other = submit(world.other_sender, [event("corr-1", messageId="theirs")])
    assert other.status_code == 201 and other.json()["eventsCreated"] == 1
    assert sorted(item.provider_id for item in stored(correlation_id="corr-1")) == sorted(
        [world.sender.client_id, world.other_sender.client_id]
    )


def test_events_without_correlation_id_are_always_stored(world):
    assert submit(world.sender, [event(None)]).status_code == 201
    assert submit(world.sender, [event(None)]).json() == {"eventsCreated": 1, "eventsAlreadyStored": 0}
    assert len(stored()) == 2


# --- who submits -------------------------------------------------------------------------------------------


def test_access(world):
    assert submit(world.alice, [event()]).status_code == 403  # messagesfull, not publicationsender
    assert submit(world.alice_refdata_only, [event()]).status_code == 403
    anonymous = submit(None, [event()], http=world.anonymous)
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "UNAUTHORIZED"
    assert not Event.objects.exists()
    assert submit(world.other_sender, [event()]).status_code == 201


def test_a_client_cannot_submit_as_another(world):
    response = submit(world.sender, [event()], query=f"?clientId={world.other_sender.client_id}")
    assert response.status_code == 403 and response.json()["code"] == "FORBIDDEN"
    assert not Event.objects.exists()
    assert submit(world.sender, [event()], query=f"?clientId={world.sender.client_id}").status_code == 201
    assert [item.provider_id for item in stored()] == [world.sender.client_id]


def test_every_attempt_is_audited(world):
    before = AuditRecord.objects.count()
    submit(world.sender, [event("corr-1"), event(None, eventType="readDocument")])
    submit(world.sender, [event("corr-1")])
    submit(None, [event()], http=world.anonymous)
    submit(world.alice, [event()])
    submit(world.sender, [event(enterpriseId="123")])
    entries = list(AuditRecord.objects.filter(seq__gt=before).order_by("seq"))
    assert [(entry.action, entry.method, entry.status) for entry in entries] == [
        ("submitEboxEnterpriseDocumentEvents", "POST", 201),
        ("submitEboxEnterpriseDocumentEvents", "POST", 201),
        ("submitEboxEnterpriseDocumentEvents", "POST", 401),
        ("submitEboxEnterpriseDocumentEvents", "POST", 403),
        ("submitEboxEnterpriseDocumentEvents", "POST", 400),
    ]
    assert entries[0].details == {
        "stored": [
            {"eventCorrelationId": "corr-1", "eventType": "newDocument"},
            {"eventCorrelationId": None, "eventType": "readDocument"},
        ],
        "alreadyStored": [],
    }
    assert entries[1].details == {"stored": [], "alreadyStored": ["corr-1"]}
    assert [entry.actor for entry in entries] == [world.sender.client_id] * 2 + [""] + [
        world.alice.client_id,
        world.sender.client_id,
    ]


# --- the body ---------------------------------------------------------------------------------------------


INVALID_ITEMS = [
    ("eventType", {"eventType": ...}),
    ("enterpriseId", {"enterpriseId": ...}),
    ("messageId", {"messageId": ...}),
    ("receiptDate", {"receiptDate": ...}),
    ("expirationDate", {"expirationDate": ...}),
    ("registeredMail", {"registeredMail": ...}),
    ("eventType", {"eventType": "documentArchived"}),
    ("enterpriseId", {"enterpriseId": "456789034"}),  # 9 digits: the contract wants 10
    ("enterpriseId", {"enterpriseId": "BE0456789034"}),
    ("enterpriseId", {"enterpriseId": "0456789035"}),  # check digits
    ("enterpriseId", {"enterpriseId": 456789034}),
    ("messageId", {"messageId": ""}),
    ("messageId", {"messageId": "m" * 101}),
    ("messageId", {"messageId": 12}),
    ("eventCorrelationId", {"eventCorrelationId": ""}),
    ("eventCorrelationId", {"eventCorrelationId": "c" * 201}),
    ("registeredMail", {"registeredMail": "false"}),
    ("registeredMail", {"registeredMail": 0}),
    ("receiptDate", {"receiptDate": "2026-03-02T10:00:00"}),  # no offset
    ("receiptDate", {"receiptDate": "2026-03-02"}),
    ("receiptDate", {"receiptDate": "02/03/2026 10:00"}),
    ("expirationDate", {"expirationDate": "9999-12-31T23:59:59-12:00"}),  # year 10000 in UTC
    ("expirationDate", {"expirationDate": "2026-03-01T10:00:00+01:00"}),  # before the receipt
    ("messageTypeId", {"messageTypeId": None}),  # null: leave the property out instead
    ("subject", {"subject": {"fr": None}}),
    ("subject", {"subject": {"fr": "x" * 256}}),
    ("subject", {"subject": {"fr": 5}}),
    ("subject", {"subject": "Avertissement"}),
    ("senderApplicationId", {"senderApplicationId": "\ud800"}),  # a lone surrogate
]


@pytest.mark.parametrize(("field", "change"), INVALID_ITEMS)
def test_an_invalid_item_is_400_naming_it_and_nothing_is_stored(world, field, change):
    response = submit(world.sender, [event("ok-1"), event("ok-2"), event("bad", **change)])
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "INVALID_INPUT"
    assert body["message"].startswith("EboxEnterpriseDocumentEvents.2"), body["message"]
    assert field in body["message"], body["message"]
    assert not Event.objects.exists()


@pytest.mark.parametrize("cbe_of", ["unregistered", "closed"])
def test_the_enterprise_must_be_an_active_one_of_this_registry(world, cbe_of):
    cbe = make_cbe(5_555_555)
    if cbe_of == "closed":
        Enterprise.objects.filter(cbe=B).update(active=False)
        cbe = B
    response = submit(world.sender, [event("ok"), event("bad", enterpriseId=cbe, messageId="m-7")])
    assert response.status_code == 400
    assert response.json()["message"] == (
        f"EboxEnterpriseDocumentEvents.1.enterpriseId: {cbe} is not an active enterprise of this registry "
        "(messageId 'm-7')."
    )
    assert not Event.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        "[",
        "{}",
        json.dumps(event()),  # one object, not an array
        "null",
        json.dumps([event(), "x"]),
        json.dumps([event(messageId="a\u0000b")]),  # NUL
    ],
)
def test_malformed_bodies_are_400(world, body):
    response = submit(world.sender, body)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "INVALID_INPUT"
    assert not Event.objects.exists()


def test_at_most_a_thousand_events_per_request(world):
    assert submit(world.sender, [event(f"c-{n}") for n in range(1001)]).status_code == 400
    assert not Event.objects.exists()
    response = submit(world.sender, [event(f"c-{n}") for n in range(1000)])
    assert response.json() == {"eventsCreated": 1000, "eventsAlreadyStored": 0}


def test_a_body_over_the_size_limit_is_413(world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096
    response = submit(world.sender, [event(f"c-{n}") for n in range(40)])
    assert response.status_code == 413, response.content
    assert response.json()["code"] == "REQUEST_TOO_LARGE"
    assert not Event.objects.exists()
    assert AuditRecord.objects.latest("seq").status == 413  # a refused write is audited


def test_the_body_is_json(world):
    response = world.sender.http.post(
        EVENTS,
        "eventType=newDocument",
        content_type="application/x-www-form-urlencoded",
        secure=True,
        HTTP_AUTHORIZATION=f"Bearer {world.sender.token}",
    )
    assert response.status_code == 400
    assert not Event.objects.exists()
