"""The contract loader and validators of the conformance checks, on small Swagger documents written
here (the project's tests never read the official files)."""

import json

import pytest
import yaml

from coffre.conformance.spec import Contract, SpecError, event_deviations, find_contract, find_event_contract
from coffre.conformance.spec import paged_output_lists

REGISTRY = {
    "swagger": "2.0",
    "info": {"title": "Registry", "version": "2.1"},
    "basePath": "/ebox/$domain/v$",
    "paths": {
        "/ebox/messages": {
            "get": {
                "responses": {
                    200: {"description": "ok", "schema": {"$ref": "#/definitions/Messages"}},
                    400: {"description": "bad", "schema": {"$ref": "#/definitions/StatusMessage"}},
                }
            },
            "patch": {
                "parameters": [{"in": "body", "name": "b", "schema": {"$ref": "#/definitions/Updates"}}],
                "responses": {200: {"description": "ok"}},
            },
        },
        "/publishMessage": {"post": {"responses": {201: {"description": "created"}}}},
        "/content": {
            "get": {
                "produces": ["application/octet-stream"],
                "responses": {200: {"description": "bytes", "schema": {"type": "string"}}},
            }
        },
    },
    "definitions": {
        "Messages": {
            "type": "object",
            "properties": {
                "items": {"type": "array", "items": {"$ref": "#/definitions/Message"}},
                "totalItems": {"type": "integer", "format": "int32"},
            },
        },
        "Updates": {
            "type": "object",
            "properties": {
                "items": {"type": "array", "items": {"type": "string"}},
                "totalItems": {"type": "integer"},
            },
        },
        "Message": {
            "type": "object",
            "required": ["messageId"],
            "properties": {
                "messageId": {"type": "string"},
                "receiptDate": {"type": "string", "format": "date-time"},
                "link": {"type": "string", "format": "uri"},
                "attachment": {"$ref": "#/definitions/Attachment"},
                "x-internal": {"type": "string"},
            },
        },
        "Attachment": {
            "type": "object",
            "properties": {"mediaType": {"type": "string", "enum": ["application/pdf"]}},
        },
        "StatusMessage": {
            "type": "object",
            "required": ["id", "code", "message"],
            "properties": {
                "id": {"type": "string", "format": "uuid"},
                "code": {"type": "string"},
                "message": {"type": "string"},
            },
        },
    },
}


@pytest.fixture
def contract(tmp_path):
    (tmp_path / "registry.yaml").write_text(yaml.safe_dump(REGISTRY))
    return Contract.from_dir(tmp_path)[0]


def message_page(**message) -> bytes:
    return json.dumps({"items": [{"messageId": "m1", **message}], "totalItems": 1}).encode()


def test_the_registry_is_found_among_other_swagger_files(tmp_path):
    (tmp_path / "events.yaml").write_text(
        "---\ntitle: front matter\n---\n"
        + yaml.safe_dump({"swagger": "2.0", "info": {"title": "Events"}, "paths": {"/events": {}}})
    )
    (tmp_path / "registry.json").write_text(json.dumps(REGISTRY))
    (tmp_path / "notes.md").write_text("not a contract")
    path, document, others = find_contract(tmp_path)
    assert path.name == "registry.json" and document["info"]["title"] == "Registry"
    assert [(other.name, title) for other, title in others] == [("events.yaml", "Events")]


def test_no_registry_is_an_error(tmp_path):
    (tmp_path / "events.yaml").write_text(yaml.safe_dump({"swagger": "2.0", "paths": {}}))
    with pytest.raises(SpecError):
        find_contract(tmp_path)


def test_deviations_change_a_copy_and_say_where(contract):
    notes = {deviation.kind: where for deviation, where in contract.deviations}
    assert contract.definitions["Attachment"]["properties"]["mediaType"]["enum"] == [
        "application/pdf",
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/tiff",
    ]
    assert contract.original["definitions"]["Attachment"]["properties"]["mediaType"]["enum"] == [
        "application/pdf"
    ]
    assert "image/tiff" in notes["extension"]
    assert contract.operation("GET", "/ebox/messages").response_schema(403) == (
        True,
        {"$ref": "#/definitions/StatusMessage"},
    )
    assert (
        "Messages" in notes["tightening"] and "Updates" not in notes["tightening"]
    )  # inputs stay as they are
    assert paged_output_lists(contract.spec) == ["Messages"]


def test_a_valid_response(contract):
    operation = contract.operation("GET", "/ebox/messages")
    body = message_page(
        receiptDate="2026-03-01T10:00:00+01:00",
        link="https://example.test/x",
        attachment={"mediaType": "image/png"},
    )
    assert contract.check_response(operation, 200, "application/json; charset=utf-8", body) == []


@pytest.mark.parametrize(
    "body, problem",
    [
        (
            message_page(receiptDate="2026-03-01T10:00:00"),
            "receiptDate: '2026-03-01T10:00:00' is not a 'date-time'",
        ),
        (message_page(receiptDate="2026-02-30T10:00:00Z"), "is not a 'date-time'"),
        (message_page(link="/relative"), "link: '/relative' is not a 'uri'"),
        (message_page(attachment={"mediaType": "image/bmp"}), "mediaType: 'image/bmp' is not one of"),
        (message_page(receiptDate=None), "None is not of type 'string'"),  # Swagger 2.0: no nullable
        (json.dumps({"items": [], "totalItems": 2**31}).encode(), "totalItems: 2147483648 is not a 'int32'"),
        (json.dumps({"items": []}).encode(), "'totalItems' is a required property"),  # NOTES.md, a tightening
        (json.dumps({"items": None, "totalItems": 0}).encode(), "None is not of type 'array'"),
    ],
)
def test_violations_are_named(contract, body, problem):
    problems = contract.check_response(
        contract.operation("GET", "/ebox/messages"), 200, "application/json", body
    )
    assert any(problem in text for text in problems), problems


def test_status_content_type_and_json_are_checked(contract):
    operation = contract.operation("GET", "/ebox/messages")
    assert (
        "status 418 is not documented"
        in contract.check_response(operation, 418, "application/json", b"{}")[0]
    )
    assert "expected application/json" in contract.check_response(operation, 200, "text/html", b"<p>")[0]
    assert "not JSON" in contract.check_response(operation, 200, "application/json", b"{oops")[0]
    error = {"id": "not-a-uuid", "code": "INVALID_INPUT", "message": "no"}
    assert contract.check_response(operation, 400, "application/json", json.dumps(error).encode()) == [
        "body.id: 'not-a-uuid' is not a 'uuid'"
    ]


def test_responses_without_schema_and_binary_content(contract):
    assert contract.check_response(contract.operation("PATCH", "/ebox/messages"), 200, "", b"") == []
    content = contract.operation("GET", "/content")
    assert contract.check_response(content, 200, "application/pdf", b"%PDF-1.7") == []


# --- the event API contract -------------------------------------------------------------------------

EVENTS_PATH = "/ebox/enterprise/document/events"
EVENT_API = {
    "swagger": "2.0",
    "info": {"title": "Events", "version": "1.1.1"},
    "basePath": "/events-api/1.0.0",
    "paths": {
        EVENTS_PATH: {
            "get": {
                "responses": {
                    200: {
                        "description": "page",
                        "schema": {"$ref": "#/definitions/EboxEnterpriseDocumentEventPage"},
                    },
                    400: {"description": "bad input parameter"},
                    403: {"description": "not authorized"},
                }
            },
            "post": {
                "responses": {201: {"description": "created"}, 409: {"description": "idempotency violation"}}
            },
        }
    },
    "definitions": {
        "EboxEnterpriseDocumentEventPage": {
            "type": "object",
            "properties": {
                "EboxEnterpriseDocumentEvents": {"type": "array", "items": {"type": "object"}},
                "pageInfo": {"type": "object"},
            },
        }
    },
}


@pytest.fixture
def event_contract(tmp_path):
    (tmp_path / "registry.yaml").write_text(yaml.safe_dump(REGISTRY))
    (tmp_path / "events.yaml").write_text("---\ntitle: EES Latest\n---\n" + yaml.safe_dump(EVENT_API))
    path, document = find_event_contract(tmp_path)
    return Contract(path, document, event_deviations(REGISTRY))


def test_the_event_contract_is_found_beside_the_registry_and_not_listed_as_unchecked(tmp_path):
    (tmp_path / "registry.json").write_text(json.dumps(REGISTRY))
    (tmp_path / "events.yaml").write_text("---\ntitle: front matter\n---\n" + yaml.safe_dump(EVENT_API))
    (tmp_path / "federation.yaml").write_text(
        yaml.safe_dump({"swagger": "2.0", "info": {"title": "Fed"}, "paths": {}})
    )
    assert [(path.name, title) for path, title in find_contract(tmp_path)[2]] == [("federation.yaml", "Fed")]
    path, document = find_event_contract(tmp_path)
    assert path.name == "events.yaml" and document["info"]["version"] == "1.1.1"


def test_no_event_contract(tmp_path):
    (tmp_path / "registry.json").write_text(json.dumps(REGISTRY))
    assert find_event_contract(tmp_path) is None


def test_event_deviations_add_401_and_status_messages_and_require_the_page(event_contract):
    feed = event_contract.operation("GET", EVENTS_PATH)
    submit = event_contract.operation("POST", EVENTS_PATH)
    assert feed.documented_statuses() == [200, 400, 401, 403]
    assert submit.documented_statuses() == [201, 401, 409]
    for operation, status in ((feed, 400), (feed, 401), (feed, 403), (submit, 409)):
        assert operation.response_schema(status) == (True, {"$ref": "#/definitions/StatusMessage"})
    assert event_contract.definitions["StatusMessage"] == REGISTRY["definitions"]["StatusMessage"]
    assert "schema" not in event_contract.original["paths"][EVENTS_PATH]["get"]["responses"][400]
    assert sorted(
        event_contract.check_response(submit, 409, "application/json", b'{"message": "conflict"}')
    ) == [
        "body: 'code' is a required property",
        "body: 'id' is a required property",
    ]
    assert event_contract.check_response(feed, 200, "application/json", b'{"pageInfo": {}}') == [
        "body: 'EboxEnterpriseDocumentEvents' is a required property"
    ]
