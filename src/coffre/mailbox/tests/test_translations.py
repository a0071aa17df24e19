from coffre.mailbox.translations import fill, in_language, normalize

SUBJECT = "Rappel: cotisation trimestrielle de Hélène"


def found(query: str) -> bool:
    return normalize(query) in normalize(SUBJECT)


def test_the_official_search_examples():
    assert found("helene")
    assert found("COTISATION TRI")
    assert found("ène")
    assert not found("trimestrielle de Rappel")
    assert not found("cotisation  trimestrielle")


def test_fill_carries_the_three_languages():
    assert fill({"fr": "Facture"}) == {"nl": "Facture", "fr": "Facture", "de": "Facture"}
    assert fill({"nl": "Factuur", "fr": "Facture"}) == {"nl": "Factuur", "fr": "Facture", "de": "Facture"}
    assert fill({"en": "Invoice"}) == {"nl": "Invoice", "fr": "Invoice", "de": "Invoice", "en": "Invoice"}
    assert fill({}) is None
    assert fill({"fr": ""}) is None


def test_in_language_uses_the_filled_text():
    assert in_language({"nl": "Factuur"}, "fr") == "Factuur"
    assert in_language({"nl": "Factuur", "fr": "Facture"}, "fr") == "Facture"
