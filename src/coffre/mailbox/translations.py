"""Translated strings (the contract's ``TranslatedString``) and the text normalisation of search.

A sender may give a text in one language or several; outputs carry nl, fr and de (and en when
given), the missing ones filled from the first given language in the order fr, nl, de, en.
Search compares normalised text: case-folded, accents removed (NFKD without combining marks), and
nothing else changed, so that ``q`` must appear as is (two spaces do not match one).
"""

import unicodedata

LANGUAGES = ("fr", "nl", "de", "en")
OUTPUT_LANGUAGES = ("nl", "fr", "de")
FILL_ORDER = ("fr", "nl", "de", "en")
# Separates the searchable fields of a message so that a match never spans two of them.
FIELD_SEPARATOR = "\x1f"


def given(text: dict | None) -> dict:
    """The languages actually given, without empty values."""
    return {lang: value for lang, value in (text or {}).items() if lang in LANGUAGES and value}


def fill(text: dict | None) -> dict | None:
    """The output form: nl, fr, de always present (and en when given); None when nothing given."""
    present = given(text)
    if not present:
        return None
    source = next(present[lang] for lang in FILL_ORDER if lang in present)
    filled = {lang: present.get(lang, source) for lang in OUTPUT_LANGUAGES}
    if "en" in present:
        filled["en"] = present["en"]
    return filled


def in_language(text: dict | None, lang: str) -> str:
    """The text a reader of ``lang`` sees (the filled value), or ''."""
    present = given(text)
    if not present:
        return ""
    if lang in present:
        return present[lang]
    return next(present[code] for code in FILL_ORDER if code in present)


def normalize(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def search_text(parts: list[str]) -> str:
    return FIELD_SEPARATOR.join(normalize(part) for part in parts if part)
