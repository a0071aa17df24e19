"""``coffre.accounts.selectors`` (the reads that the tests of the views do not reach directly)."""

from coffre.accounts.selectors import language_of_address
from coffre.accounts.testing import make_person


def test_an_address_is_written_to_in_the_language_of_the_person_who_signs_in_with_it(db):
    make_person("greta@example.be", language="de")
    assert language_of_address("Greta@Example.be", "fr") == "de"


def test_an_address_that_is_nobodys_account_is_written_to_in_the_default_given(db):
    make_person("greta@example.be", language="de")
    assert language_of_address("team@example.be", "nl") == "nl"
