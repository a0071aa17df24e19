"""The five e-Box scopes and their parsing (scopes.py)."""

import pytest

from coffre.oauth import scopes
from coffre.oauth.errors import ScopeNotAllowed
from coffre.oauth.scopes import UnknownScope, granted_scopes, parse_scopes


def test_the_five_full_strings_of_the_contract():
    prefix = "scope:document:management:consult:ws-eboxrestentreprise:"
    assert scopes.ALL_SCOPES == (
        prefix + "summaryownebox",
        prefix + "summaryallebox",
        prefix + "messagesfull",
        prefix + "referencedata",
        prefix + "publicationsender",
    )
    assert (
        scopes.SUMMARY_OWN,
        scopes.SUMMARY_ALL,
        scopes.MESSAGES_FULL,
        scopes.REFERENCE_DATA,
        scopes.PUBLICATION_SENDER,
    ) == scopes.ALL_SCOPES


def test_full_and_short_names_mixed_deduplicated_in_canonical_order():
    assert parse_scopes(["publicationsender", scopes.SUMMARY_OWN, "summaryownebox", "messagesfull"]) == [
        scopes.SUMMARY_OWN,
        scopes.MESSAGES_FULL,
        scopes.PUBLICATION_SENDER,
    ]


def test_space_separated_string():
    assert parse_scopes(f"referencedata  {scopes.SUMMARY_ALL}") == [scopes.SUMMARY_ALL, scopes.REFERENCE_DATA]
    assert parse_scopes("") == []


def test_unknown_scope_is_named_with_the_known_ones():
    with pytest.raises(UnknownScope) as caught:
        parse_scopes(["messagesfull", "messages"])
    assert caught.value.value == "messages"
    assert "'messages'" in str(caught.value)
    assert "messagesfull" in str(caught.value) and "publicationsender" in str(caught.value)


def test_short_names_can_be_refused():
    with pytest.raises(UnknownScope):
        parse_scopes("messagesfull", allow_short=False)
    assert parse_scopes(scopes.MESSAGES_FULL, allow_short=False) == [scopes.MESSAGES_FULL]


def test_granted_scopes():
    held = [scopes.REFERENCE_DATA, scopes.SUMMARY_OWN]
    assert granted_scopes(held, None) == [scopes.SUMMARY_OWN, scopes.REFERENCE_DATA]
    assert granted_scopes(held, "  ") == [scopes.SUMMARY_OWN, scopes.REFERENCE_DATA]
    assert granted_scopes(held, scopes.REFERENCE_DATA) == [scopes.REFERENCE_DATA]
    with pytest.raises(ScopeNotAllowed, match="not granted"):
        granted_scopes(held, f"{scopes.REFERENCE_DATA} {scopes.MESSAGES_FULL}")
    with pytest.raises(ScopeNotAllowed, match="not an e-Box scope"):
        granted_scopes(held, "referencedata")
