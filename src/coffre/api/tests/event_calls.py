"""Calls to the event API for the tests (through Django's test client, like the registry's)."""

import json

from coffre.api.tests.conftest import A, Caller

EVENTS = "/events-api/1.0.0/ebox/enterprise/document/events"


def headers(caller: Caller | None) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {caller.token}"} if caller else {}


def feed(caller: Caller, http=None, **params):
    """GET the feed; ``lastSequenceNbr`` 0 and ``pageSize`` 100 unless given (None leaves one out)."""
    query = {"lastSequenceNbr": 0, "pageSize": 100, **params}
    query = {key: value for key, value in query.items() if value is not None}
    client = http or caller.http
    return client.get(EVENTS, query, secure=True, **headers(caller))


def feed_items(caller: Caller, **params) -> list[dict]:
    response = feed(caller, **params)
    assert response.status_code == 200, response.content
    return response.json()["EboxEnterpriseDocumentEvents"]


def submit(caller: Caller | None, body, http=None, query: str = ""):
    """POST the events (a list, or raw bytes/str sent as is)."""
    client = http or caller.http
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(EVENTS + query, data, content_type="application/json", secure=True, **headers(caller))


def event(correlation_id: str | None = "corr-1", **overrides) -> dict:
    """A valid EboxEnterpriseDocumentEvent for enterprise A (override anything; ... leaves a key out)."""
    base = {
        "eventType": "newDocument",
        "eventCorrelationId": correlation_id,
        "enterpriseId": A,
        "messageId": "dp2-message-1",
        "receiptDate": "2026-03-02T10:00:00+01:00",
        "expirationDate": "2027-03-02T10:00:00+01:00",
        "registeredMail": False,
        "messageTypeId": "TAXNOTICE",
        "senderOrganizationId": "0308357159",
        "senderApplicationId": "TAXONWEB",
        "subject": {"fr": "Avertissement-extrait de rôle", "nl": "Aanslagbiljet"},
    }
    base.update(overrides)
    return {
        key: value
        for key, value in base.items()
        if value is not ... and not (key == "eventCorrelationId" and value is None)
    }
