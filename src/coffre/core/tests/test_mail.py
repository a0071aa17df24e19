"""``coffre.core.mail``: a mail is written in the language it is given (its reader's), whatever
the language of the page or task that sends it, and leaves that language as it found it."""

import pytest
from django.utils import translation

from coffre.core.mail import render_mail, send_templated_mail

CONTEXT = {
    "person": {"full_name": "Greta"},
    "link": "https://coffre.example/accounts/verify/x/",
    "days": 3,
    "reset_link": "https://coffre.example/accounts/password/reset/",
}
VERIFY_EMAIL = {
    "fr": ("Confirmez votre adresse e-mail pour Coffre", "Bonjour Greta,",
           "Le lien fonctionne pendant 3 jours."),
    "nl": ("Bevestig uw e-mailadres voor Coffre", "Beste Greta,", "De link werkt 3 dagen."),
    "de": ("Bestätigen Sie Ihre E-Mail-Adresse für Coffre", "Guten Tag Greta,",
           "Der Link funktioniert 3 Tage lang."),
    "en": ("Confirm your e-mail address for Coffre", "Hello Greta,", "The link works for 3 days."),
}


@pytest.mark.parametrize("language", ["fr", "nl", "de", "en"])
def test_a_mail_is_written_in_the_readers_language(language):
    with translation.override("fr" if language != "fr" else "nl"):  # the sender's page
        subject, text, html = render_mail("accounts/mail/verify_email", CONTEXT, language)
        assert translation.get_language() == ("fr" if language != "fr" else "nl")
    expected_subject, greeting, plural = VERIFY_EMAIL[language]
    assert subject == expected_subject
    assert text.startswith(greeting) and plural in text and CONTEXT["link"] in text
    assert html is None


def test_the_plural_follows_the_number_in_each_language():
    one = {**CONTEXT, "days": 1}
    assert "Le lien fonctionne pendant 1 jour." in render_mail("accounts/mail/verify_email", one, "fr")[1]
    assert "De link werkt 1 dag." in render_mail("accounts/mail/verify_email", one, "nl")[1]
    assert "Der Link funktioniert 1 Tag lang." in render_mail("accounts/mail/verify_email", one, "de")[1]


def test_the_mail_leaves_on_commit_in_the_readers_language(
    db, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        send_templated_mail(["greta@example.be"], "accounts/mail/verify_email", CONTEXT, "de")
        assert mailoutbox == []
    [mail] = mailoutbox
    assert mail.to == ["greta@example.be"] and mail.subject == VERIFY_EMAIL["de"][0]
