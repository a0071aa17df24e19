"""Reading messageToPublish: whatever the JSON, a draft or a Refusal with a code, never a crash."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from coffre.api.publication_input import Refusal, message_draft, parse_description
from coffre.api.tests.conftest import A, ONSS, description
from coffre.mailbox.store import StagedContent

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=300),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=20), children, max_size=4),
    max_leaves=20,
)
KEYS = list(description()) + ["bodyContent", "paymentData", "businessDataList", "forTheAttentionOf",
                              "expirationDate", "originalMessageId", "registeredMail"]


class FakeUpload:
    def __init__(self):
        self.name = "a.pdf"
        self.content_type = "application/pdf"
        self.content = StagedContent("/nonexistent", "0" * 64, 10, b"%PDF-1.7")


def outcome(document) -> str:
    try:
        draft = message_draft(parse_description(json.dumps(document)), {"upfile1": FakeUpload()}, ONSS)
    except Refusal as refusal:
        assert refusal.code in {"INVALID_INPUT", "DIGEST_DO_NOT_MATCH", "INVALID_SENDER"}
        assert refusal.message
        return refusal.code
    assert draft.recipient_cbe
    return "ok"


def test_the_valid_description_passes():
    assert outcome(description()) == "ok"


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(KEYS), JSON)
def test_any_value_for_any_property(key, value):
    document = description()
    document[key] = value
    outcome(document)


@settings(max_examples=200, deadline=None)
@given(JSON)
def test_any_json_document(document):
    outcome(document)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["recipient", "subject", "attachments"]), st.text(max_size=20), JSON)
def test_any_nested_value(key, inner, value):
    document = description()
    target = document[key][0] if key == "attachments" else document[key]
    target[inner] = value
    outcome(document)


def test_recipient_is_a_cbe():
    assert outcome(description(recipient=A[1:])) == "ok"
    assert outcome(description(recipient="1234")) == "INVALID_INPUT"
