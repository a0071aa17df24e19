"""Signing up and confirming the e-mail address (views and ``services_auth``)."""

from datetime import timedelta

import pytest
from django.utils.html import escape

from coffre.accounts.models import User
from coffre.accounts.testing import PASSWORD, link_in, make_person
from coffre.audit.models import AuditRecord

NEW_PASSWORD = "Another-good-passphrase-7"


@pytest.fixture
def client(client):
    """A browser that asks for English, the language of the messages compared below (the person
    signing up chooses Dutch: the pages before signing in follow the browser)."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def sign_up(client, deliver, email="newcomer@example.be", password=NEW_PASSWORD, **extra):
    data = {
        "email": email,
        "full_name": "New Comer",
        "language": "nl",
        "password1": password,
        "password2": password,
        **extra,
    }
    with deliver():
        return client.post("/accounts/signup/", data)


def test_sign_up_mails_a_link_and_the_account_works_only_once_confirmed(client, db, deliver, mailoutbox):
    response = sign_up(client, deliver)
    assert response.status_code == 302 and response["Location"] == "/accounts/signup/done/"
    person = User.objects.get(email="newcomer@example.be")
    assert not person.is_active and person.email_verified_at is None and person.language == "nl"
    assert person.password.startswith("argon2")
    [mail] = mailoutbox
    assert mail.to == ["newcomer@example.be"]
    link = link_in(mail, "/accounts/verify/")

    refused = client.post("/accounts/login/", {"username": "newcomer@example.be", "password": NEW_PASSWORD})
    assert refused.status_code == 200
    assert b"not confirmed yet" in refused.content
    assert "_auth_user_id" not in client.session

    opened = client.get(link)
    assert opened.status_code == 302 and opened["Location"] == "/accounts/verify/confirm/"
    page = client.get("/accounts/verify/confirm/")
    assert page.status_code == 200 and b"newcomer@example.be" in page.content

    wrong = client.post("/accounts/verify/confirm/", {"password": "not-the-password"})
    assert wrong.status_code == 200 and b"not the password chosen at sign-up" in wrong.content
    person.refresh_from_db()
    assert not person.is_active

    confirmed = client.post("/accounts/verify/confirm/", {"password": NEW_PASSWORD})
    assert confirmed.status_code == 302
    person.refresh_from_db()
    assert person.is_active and person.email_verified_at is not None
    assert client.session["_auth_user_id"] == str(person.pk)
    assert client.cookies["django_language"].value == "nl"
    record = AuditRecord.objects.get(action="person.email_verified")
    assert record.details == {"email": "newcomer@example.be"}
    # The token never reaches the audit trail: the confirming page's URL does not carry it.
    assert record.url == "/accounts/verify/confirm/"


def test_the_link_leads_back_to_where_the_person_was_going(client, db, deliver, mailoutbox):
    sign_up(client, deliver, next="/accounts/invitations/accept/")
    link = link_in(mailoutbox[0], "/accounts/verify/")
    assert "next=%2Faccounts%2Finvitations%2Faccept%2F" in link
    client.get(link)
    response = client.post("/accounts/verify/confirm/", {"password": NEW_PASSWORD})
    assert response["Location"] == "/accounts/invitations/accept/"


def test_a_foreign_next_is_ignored(client, db, deliver, mailoutbox):
    sign_up(client, deliver, next="https://evil.example/")
    assert "next=" not in link_in(mailoutbox[0], "/accounts/verify/")


def test_the_link_expires_after_three_days(client, db, deliver, mailoutbox, clock):
    sign_up(client, deliver)
    link = link_in(mailoutbox[0], "/accounts/verify/")
    clock.shift(timedelta(days=3, seconds=1))
    client.get(link)
    response = client.get("/accounts/verify/confirm/")
    assert response.status_code == 400 and b"expired" in response.content
    assert not User.objects.get(email="newcomer@example.be").is_active


def test_a_tampered_link_is_refused(client, db, deliver, mailoutbox):
    sign_up(client, deliver)
    link = link_in(mailoutbox[0], "/accounts/verify/")
    client.get(link.replace("/verify/", "/verify/x"))
    response = client.get("/accounts/verify/confirm/")
    assert response.status_code == 400 and b"not valid" in response.content


def test_signing_up_with_a_known_address_changes_nothing_and_tells_its_owner(client, db, deliver, mailoutbox):
    owner = make_person("owner@example.be")
    response = sign_up(client, deliver, email="Owner@Example.be")
    assert response.status_code == 302 and response["Location"] == "/accounts/signup/done/"
    assert User.objects.filter(email__iexact="owner@example.be").count() == 1
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD) and not owner.check_password(NEW_PASSWORD)
    [mail] = mailoutbox
    assert mail.to == ["owner@example.be"] and "already have an account" in mail.body


def test_whoever_signed_up_first_with_someone_elses_address_cannot_get_in(client, db, deliver, mailoutbox):
    """The intruder's password is asked when the link is followed; the owner resets it instead."""
    sign_up(client, deliver, email="victim@example.be", password="Intruder-knows-this-1")
    sign_up(client, deliver, email="victim@example.be", password=NEW_PASSWORD)  # the owner, later
    assert len(mailoutbox) == 2
    client.get(link_in(mailoutbox[1], "/accounts/verify/"))
    refused = client.post("/accounts/verify/confirm/", {"password": NEW_PASSWORD})
    assert refused.status_code == 200
    assert not User.objects.get(email="victim@example.be").is_active

    with_reset = link_in(mailoutbox[1], "/accounts/password/reset/")
    with deliver():
        client.post(with_reset, {"email": "victim@example.be"})
    reset_link = link_in(mailoutbox[2], "/accounts/password/reset/")
    form_page = client.get(reset_link, follow=True)
    client.post(
        form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    person = User.objects.get(email="victim@example.be")
    assert person.is_active and person.email_verified_at is not None
    assert person.check_password(NEW_PASSWORD) and not person.check_password("Intruder-knows-this-1")


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"password2": "something-else-entirely"}, "password2"),
        ({"password1": "12345678901", "password2": "12345678901"}, "password1"),
        ({"email": "not-an-address"}, "email"),
    ],
)
def test_the_form_says_what_is_wrong_next_to_the_field(client, db, deliver, changes, field):
    response = sign_up(client, deliver, **changes)
    assert response.status_code == 200
    [error, *_] = response.context["form"].errors[field]
    html = response.content.decode()
    assert escape(error) in html
    assert f'id="id_{field}_error"' in html and 'aria-invalid="true"' in html
    assert not User.objects.exists()


def test_the_form_speaks_the_visitors_language(client, db, deliver):
    response = client.post("/accounts/signup/", {"email": "x"}, HTTP_ACCEPT_LANGUAGE="nl")
    assert response.status_code == 200
    assert '<html lang="nl">' in response.content.decode()
    assert "Dit veld is verplicht." in response.content.decode()


def test_a_new_link_can_be_asked_three_times_an_hour(client, db, deliver, mailoutbox, clock):
    sign_up(client, deliver)
    for _ in range(4):
        with deliver():
            response = client.post("/accounts/verify/resend/", {"email": "newcomer@example.be"})
        assert response.status_code == 302
    assert len(mailoutbox) == 1 + 3
    clock.shift(timedelta(hours=1))
    with deliver():
        client.post("/accounts/verify/resend/", {"email": "newcomer@example.be"})
    assert len(mailoutbox) == 5


def test_asking_a_link_for_an_unknown_or_confirmed_address_sends_nothing_and_says_the_same(
    client, db, deliver, mailoutbox
):
    make_person("known@example.be")
    answers = []
    for email in ("nobody@example.be", "known@example.be"):
        with deliver():
            response = client.post("/accounts/verify/resend/", {"email": email}, follow=True)
        answers.append([str(message) for message in response.context["messages"]])
    assert answers[0] == answers[1] and answers[0]
    assert mailoutbox == []


def test_sign_ups_from_one_network_are_limited(client, db, deliver, mailoutbox, fast_hashing):
    for number in range(20):
        assert sign_up(client, deliver, email=f"person{number}@example.be").status_code == 302
    refused = sign_up(client, deliver, email="one-more@example.be")
    assert refused.status_code == 200 and b"Too many sign-ups" in refused.content
    assert not User.objects.filter(email="one-more@example.be").exists()


def test_a_signed_in_person_is_sent_home_from_the_sign_up_page(login):
    assert login("bob").get("/accounts/signup/").status_code == 302
