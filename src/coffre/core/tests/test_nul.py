"""NUL characters in untrusted input: where they are found."""

from coffre.core.nul import nul_in


def test_found_in_nested_values_and_property_names():
    assert (
        nul_in({"items": [{"messageId": "a"}, {"messageId": "b\x00"}]}, "body") == "body.items[1].messageId"
    )
    assert nul_in({"reference": {"x\x00": 1}}, "body") == "body.reference (a property name)"
    assert nul_in(["\x00"], "body") == "body[0]"


def test_clean_values():
    assert (
        nul_in({"subject": {"fr": "Hélène \\u0000"}, "amount": 1.5, "flag": None, "list": []}, "body") is None
    )
