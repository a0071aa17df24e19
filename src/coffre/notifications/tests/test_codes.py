"""Reference codes: random, 80 bits, typed back forgivingly; addresses masked."""

import pytest

from coffre.notifications import codes


def test_codes_are_16_characters_of_crockford_base32_and_all_different():
    made = {codes.new_code() for _ in range(2000)}
    assert len(made) == 2000
    assert all(len(code) == 16 and set(code) <= set(codes.ALPHABET) for code in made)
    assert len(codes.ALPHABET) ** codes.LENGTH >= 2**80
    # every character of the alphabet is drawn (no fixed part)
    assert set("".join(made)) == set(codes.ALPHABET)


def test_a_code_is_shown_in_groups_and_read_back_as_typed():
    code = "7KQ2M9XD4HTBPW30"
    assert codes.display(code) == "7KQ2-M9XD-4HTB-PW30"
    assert codes.normalize(" 7kq2-m9xd 4htb-pw3o ") == code  # lower case, spaces, O for 0
    assert codes.normalize("7KQ2-M9XD-4HTB-PWIL") == "7KQ2M9XD4HTBPW11"


@pytest.mark.parametrize("typed", ["", "7KQ2-M9XD-4HTB", "7KQ2-M9XD-4HTB-PW30-1", "7KQ2-M9XD-4HTB-PW3U", "é" * 16])
def test_what_cannot_be_a_code_is_refused(typed):
    assert codes.normalize(typed) is None


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("marie.dupont@boulangerie-dupont.be", "m***@b***.be"),
        ("a@e.be", "a***@e***.be"),
        ("info@mail.alice-co.co.uk", "i***@m***.uk"),
        ("root@localhost", "r***@l***"),
    ],
)
def test_addresses_are_masked(address, masked):
    assert codes.mask_email(address) == masked
