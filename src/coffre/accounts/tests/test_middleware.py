"""The portal's language (``PersonLanguageMiddleware``, Django's ``LocaleMiddleware`` and the
language switch of base.html): each page in French, Dutch, German or English, without JavaScript.

The language is, in order: the one this browser chose with the switch (cookie), else that of the
signed-in person's settings, else what the browser asks for (Accept-Language), else French.
"""

import re
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from coffre.accounts.testing import make_person, sign_in

LOGIN = "/accounts/login/"
# The login page's heading and a sentence of the footer (base.html) in each language.
LOGIN_PAGE = {
    "fr": ("<h1>Se connecter</h1>", "Coffre conserve vos documents officiels chiffrés."),
    "nl": ("<h1>Aanmelden</h1>", "Coffre bewaart uw officiële documenten versleuteld."),
    "de": ("<h1>Anmelden</h1>", "Coffre bewahrt Ihre offiziellen Dokumente verschlüsselt auf."),
    "en": ("<h1>Log in</h1>", "Coffre keeps your official documents encrypted."),
}
SETTINGS_HEADING = {"fr": "Paramètres", "nl": "Instellingen", "de": "Einstellungen", "en": "Settings"}


class LanguageSwitch(HTMLParser):
    """The form of the language switch: its action, fields and the options of its select."""

    def __init__(self, html: str):
        super().__init__()
        self.action, self.fields, self.options, self.selected = None, {}, [], None
        self._inside = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and "language-switch" in (attrs.get("class") or ""):
            self.action, self._inside = attrs["action"], True
        elif self._inside and tag == "input":
            self.fields[attrs["name"]] = attrs.get("value", "")
        elif self._inside and tag == "option":
            self.options.append(attrs["value"])
            if "selected" in attrs:
                self.selected = attrs["value"]

    def handle_endtag(self, tag):
        if tag == "form":
            self._inside = False


def language_of(response) -> str:
    return re.search(r'<html lang="([a-z]+)">', response.content.decode()).group(1)


@pytest.mark.parametrize("language", ["fr", "nl", "de", "en"])
def test_the_login_page_speaks_each_language(db, language):
    response = Client(HTTP_ACCEPT_LANGUAGE=language).get(LOGIN)
    html = response.content.decode()
    heading, footer = LOGIN_PAGE[language]
    assert language_of(response) == language and response["Content-Language"] == language
    assert heading in html and footer in html
    others = [LOGIN_PAGE[other][1] for other in LOGIN_PAGE if other != language]
    assert not any(sentence in html for sentence in others)


def test_a_browser_that_asks_for_no_known_language_reads_french(db):
    assert language_of(Client().get(LOGIN)) == "fr"
    assert language_of(Client(HTTP_ACCEPT_LANGUAGE="es, it;q=0.8").get(LOGIN)) == "fr"
    assert language_of(Client(HTTP_ACCEPT_LANGUAGE="nl-BE, fr;q=0.8").get(LOGIN)) == "nl"


def test_the_switch_is_a_plain_form_that_changes_the_language_and_comes_back(db):
    browser = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="fr")
    switch = LanguageSwitch(browser.get(LOGIN + "?next=/accounts/settings/").content.decode())
    assert switch.action == reverse("set_language")
    assert switch.options == ["fr", "nl", "de", "en"] and switch.selected == "fr"
    assert switch.fields["next"] == LOGIN + "?next=/accounts/settings/"

    response = browser.post(switch.action, {**switch.fields, "language": "de"})
    assert response.status_code == 302 and response["Location"] == LOGIN + "?next=/accounts/settings/"
    assert browser.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"
    page = browser.get(response["Location"])
    assert language_of(page) == "de" and LOGIN_PAGE["de"][0] in page.content.decode()
    assert LanguageSwitch(page.content.decode()).selected == "de"


def test_a_language_coffre_does_not_speak_is_ignored(db):
    browser = Client(HTTP_ACCEPT_LANGUAGE="nl")
    browser.post(reverse("set_language"), {"language": "es", "next": LOGIN})  # Django knows Spanish
    assert language_of(browser.get(LOGIN)) == "nl"
    signed_in = sign_in(browser, make_person("greta@example.be", language="de"))
    assert language_of(signed_in.get("/accounts/settings/")) == "de"


def test_a_signed_in_person_reads_the_language_of_their_settings_whatever_the_browser_asks(db):
    person = make_person("greta@example.be", language="de")
    browser = sign_in(Client(HTTP_ACCEPT_LANGUAGE="fr"), person)
    page = browser.get("/accounts/settings/")
    assert language_of(page) == "de" and f"<h1>{SETTINGS_HEADING['de']}</h1>" in page.content.decode()


def test_the_switch_wins_over_the_persons_language_in_this_browser(db):
    person = make_person("greta@example.be", language="de")
    browser = sign_in(Client(), person)
    browser.post(reverse("set_language"), {"language": "nl", "next": "/accounts/settings/"})
    page = browser.get("/accounts/settings/")
    assert language_of(page) == "nl" and f"<h1>{SETTINGS_HEADING['nl']}</h1>" in page.content.decode()
    person.refresh_from_db()
    assert person.language == "de"  # the switch is this browser's choice; the settings keep theirs

    elsewhere = sign_in(Client(HTTP_ACCEPT_LANGUAGE="en"), person)
    assert language_of(elsewhere.get("/accounts/settings/")) == "de"


def test_signing_in_puts_the_persons_language_in_the_browser(db):
    make_person("greta@example.be", language="de")
    browser = Client(HTTP_ACCEPT_LANGUAGE="fr")
    browser.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # chosen earlier on this computer
    response = browser.post(LOGIN, {"username": "greta@example.be", "password": "Correct-horse-battery-42"})
    assert response.status_code == 302
    assert browser.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"
    assert language_of(browser.get("/accounts/settings/")) == "de"


def test_saving_another_language_in_the_settings_changes_the_pages_at_once(db):
    person = make_person("greta@example.be", language="de", full_name="Greta")
    browser = sign_in(Client(), person)
    response = browser.post("/accounts/settings/", {"full_name": "Greta", "language": "fr"}, follow=True)
    assert language_of(response) == "fr" and "Vos paramètres sont enregistrés." in response.content.decode()
    assert browser.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"


def test_the_api_is_not_translated_for_a_signed_in_person(db):
    person = make_person("greta@example.be", language="de")
    browser = sign_in(Client(), person)
    response = browser.get("/REST/ebox/enterprise/messageRegistry/v2/ebox")
    assert response["Content-Type"].startswith("application/json")
    assert response.get("Content-Language") != "de"
