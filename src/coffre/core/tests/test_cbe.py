import pytest
from hypothesis import given
from hypothesis import strategies as st

from coffre.core.cbe import InvalidCBE, is_cbe, make_cbe, normalize_cbe


def test_official_example_is_valid():
    assert normalize_cbe("0406798006") == "0406798006"


def test_nine_digits_are_left_padded():
    assert normalize_cbe("406798006") == "0406798006"


@pytest.mark.parametrize(
    "value",
    ["0406798007", "2406798006", "040679800", "04067980066", "04O6798006", "", " 0406798006", "０406798006"],
)
def test_invalid_numbers_are_refused(value):
    with pytest.raises(InvalidCBE):
        normalize_cbe(value)


@pytest.mark.parametrize("value", ["0406.798.006", "BE 0406 798 006", "be0406798006", " 0406798006 "])
def test_printed_forms_are_accepted_when_lenient(value):
    assert normalize_cbe(value, lenient=True) == "0406798006"


def test_printed_forms_are_refused_when_strict():
    with pytest.raises(InvalidCBE):
        normalize_cbe("0406.798.006")


@given(st.integers(min_value=0, max_value=19_999_999))
def test_made_numbers_are_valid(first_eight):
    assert is_cbe(make_cbe(first_eight))


@given(st.integers(min_value=0, max_value=19_999_999), st.integers(min_value=1, max_value=96))
def test_a_wrong_check_is_refused(first_eight, offset):
    number = make_cbe(first_eight)
    wrong = number[:8] + f"{(int(number[8:]) + offset - 1) % 97 + 1:02d}"
    if wrong != number:
        assert not is_cbe(wrong)
