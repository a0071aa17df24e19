"""The translation catalogs (``src/coffre/locale/<lang>/LC_MESSAGES/django.po`` and ``.mo``).

Every message of the code and templates is in the fr, nl and de catalogs, and nothing else is;
every entry is translated (no empty, no fuzzy entry: Django would show the French text, its
fallback, to a Dutch or German reader); a translation keeps the placeholders and the HTML of its
message; the compiled ``.mo`` files say what the ``.po`` files say (a ``.po`` edited without
``make messages`` is caught). The extraction is the project's own (``coffre makemessages``, run
on a copy of the code), so the check and ``make messages`` cannot disagree.
"""

import re
import shutil
from collections import Counter
from pathlib import Path

import polib
import pytest
from django.core.management import call_command
from django.test import override_settings

import coffre

PACKAGE = Path(coffre.__file__).resolve().parent
LOCALE = PACKAGE / "locale"
LANGUAGES = ["fr", "nl", "de"]
PLURAL_FORMS = {"fr": "nplurals=2; plural=(n > 1);", "nl": "nplurals=2; plural=(n != 1);",
                "de": "nplurals=2; plural=(n != 1);"}

PYTHON_FORMAT = re.compile(r"%(?:\(\w+\))?[-#0 +]*\d*(?:\.\d+)?[sdifrxX%]")
BRACES = re.compile(r"\{\{.*?\}\}|\{\w*\}")
HTML = re.compile(r"</?[a-zA-Z][^>]*>")


def catalog(language: str) -> polib.POFile:
    return polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))


def key(entry) -> tuple:
    return entry.msgctxt, entry.msgid, entry.msgid_plural or None


def placeholders(text: str, python_format: bool) -> Counter:
    found = BRACES.findall(text) + HTML.findall(text)
    if python_format:
        found += PYTHON_FORMAT.findall(text)
    return Counter(found)


def translations(entry) -> list[tuple[str, str]]:
    """(source, translation) pairs: msgid with msgstr, or with each plural form."""
    if entry.msgid_plural:
        forms = [entry.msgstr_plural[index] for index in sorted(entry.msgstr_plural)]
        return [(entry.msgid, forms[0])] + [(entry.msgid_plural, form) for form in forms[1:]]
    return [(entry.msgid, entry.msgstr)]


# --- what the checks find (plain functions, so that a test can show each one failing) -----------


def unfinished(po: polib.POFile) -> list[str]:
    problems = [f"untranslated: {e.msgid!r}" for e in po.untranslated_entries() if not e.fuzzy]
    problems += [f"fuzzy: {e.msgid!r}" for e in po.fuzzy_entries()]
    problems += [f"obsolete: {e.msgid!r}" for e in po.obsolete_entries()]
    for entry in po:
        if entry.msgid_plural and len(entry.msgstr_plural) != 2:
            problems.append(f"{len(entry.msgstr_plural)} plural forms instead of 2: {entry.msgid!r}")
    return problems


def placeholder_mismatches(po: polib.POFile) -> list[str]:
    problems = []
    for entry in po.translated_entries():
        python_format = "python-format" in entry.flags
        for source, translation in translations(entry):
            if placeholders(source, python_format) != placeholders(translation, python_format):
                problems.append(f"{source!r} -> {translation!r}")
            elif source.startswith("\n") != translation.startswith("\n") or source.endswith(
                "\n"
            ) != translation.endswith("\n"):
                problems.append(f"leading or trailing newline differs: {source!r} -> {translation!r}")
    return problems


def compiled_differences(po: polib.POFile, mo: polib.MOFile) -> list[str]:
    """What the .mo says differently from the .po (a .mo not compiled since the .po changed)."""

    def contents(entries) -> dict:
        return {
            key(e): tuple(e.msgstr_plural[i] for i in sorted(e.msgstr_plural)) if e.msgid_plural else e.msgstr
            for e in entries
        }

    expected, actual = contents(po.translated_entries()), contents(mo)
    problems = [f"not in the .mo: {k[1]!r}" for k in expected.keys() - actual.keys()]
    problems += [f"only in the .mo: {k[1]!r}" for k in actual.keys() - expected.keys()]
    problems += [
        f"the .mo says {actual[k]!r} for {k[1]!r}, the .po {expected[k]!r}"
        for k in expected.keys() & actual.keys()
        if expected[k] != actual[k]
    ]
    if mo.metadata.get("Plural-Forms") != po.metadata.get("Plural-Forms"):
        problems.append("Plural-Forms differ")
    return problems


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> set[tuple]:
    """The messages of the current code, extracted by ``coffre makemessages`` from a copy of it."""
    if shutil.which("xgettext") is None or shutil.which("msgmerge") is None:
        pytest.fail("GNU gettext (xgettext, msgmerge) is needed to extract the messages: `make test` "
                    "installs it (apt-get install gettext)")
    copy = tmp_path_factory.mktemp("extraction") / "coffre"
    shutil.copytree(
        PACKAGE, copy, ignore=shutil.ignore_patterns("locale", "tests", "static", "var", "__pycache__")
    )
    (copy / "locale").mkdir()
    with pytest.MonkeyPatch.context() as patch, override_settings(LOCALE_PATHS=[str(copy / "locale")]):
        patch.chdir(copy)
        call_command("makemessages", locale=["fr"], verbosity=0)
    fresh = polib.pofile(str(copy / "locale" / "fr" / "LC_MESSAGES" / "django.po"))
    return {key(entry) for entry in fresh if not entry.obsolete}


# --- the catalogs -----------------------------------------------------------------------------------


def test_the_extraction_finds_the_messages_of_the_code_and_templates(extracted):
    messages = {msgid for _, msgid, _ in extracted}
    assert "Log in" in messages  # a template ({% translate %})
    assert "Please enter a correct e-mail address and password." in messages  # Python (gettext_lazy)
    assert (None, "%(counter)s message", "%(counter)s messages") in extracted  # {% blocktranslate count %}
    assert len(extracted) > 500


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_catalog_holds_every_message_of_the_code_and_nothing_else(extracted, language):
    held = {key(entry) for entry in catalog(language)}
    missing, stale = sorted(extracted - held, key=str), sorted(held - extracted, key=str)
    assert not missing, f"{language}: not in the catalog (run `make messages`, translate): {missing}"
    assert not stale, f"{language}: no longer in the code (run `make messages`): {stale}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_entry_is_translated(language):
    po = catalog(language)
    assert po.metadata["Language"] == language
    assert po.metadata["Plural-Forms"] == PLURAL_FORMS[language]
    assert unfinished(po) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_the_placeholders_and_the_markup(language):
    assert placeholder_mismatches(catalog(language)) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalog_is_up_to_date(language):
    mo_path = LOCALE / language / "LC_MESSAGES" / "django.mo"
    assert mo_path.exists(), f"{mo_path} is missing: run `make messages`"
    assert compiled_differences(catalog(language), polib.mofile(str(mo_path))) == []


# --- the checks catch what they are for -------------------------------------------------------------


def test_the_checks_catch_an_untranslated_a_fuzzy_and_a_broken_entry():
    po = catalog("nl")
    untranslated = po.find("Log in")
    untranslated.msgstr = ""
    fuzzy = po.find("Password")
    fuzzy.flags.append("fuzzy")
    renamed = po.find("You left %(name)s.")
    renamed.msgstr = "U hebt %(naam)s verlaten."
    unwrapped = po.find("Download <span class=\"visually-hidden\">%(name)s</span>")
    unwrapped.msgstr = "Downloaden %(name)s"
    plural = next(entry for entry in po if entry.msgid_plural)
    plural.msgstr_plural = {0: plural.msgstr_plural[0]}

    assert unfinished(po) == [
        "untranslated: 'Log in'",
        "fuzzy: 'Password'",
        f"1 plural forms instead of 2: {plural.msgid!r}",
    ]
    assert placeholder_mismatches(po) == [
        "'You left %(name)s.' -> 'U hebt %(naam)s verlaten.'",
        "'Download <span class=\"visually-hidden\">%(name)s</span>' -> 'Downloaden %(name)s'",
    ]


def test_the_check_of_the_compiled_catalog_catches_a_po_edited_since(tmp_path):
    po = catalog("de")
    po.find("Log in").msgstr = "Einloggen"
    po.find("Password").msgstr = ""
    mo = polib.mofile(str(LOCALE / "de" / "LC_MESSAGES" / "django.mo"))
    assert compiled_differences(po, mo) == [
        "only in the .mo: 'Password'",
        "the .mo says 'Anmelden' for 'Log in', the .po 'Einloggen'",
    ]
