"""Password reset (Django's views, our templates and rules) and password change."""

from datetime import timedelta

from coffre.accounts.models import User
from coffre.accounts.testing import PASSWORD, link_in, make_person
from coffre.audit.models import AuditRecord

NEW = "Brand-new-passphrase-99"


def ask_reset(client, deliver, email):
    with deliver():
        return client.post("/accounts/password/reset/", {"email": email})


def choose(client, link, password=NEW):
    page = client.get(link, follow=True)
    form_url = page.redirect_chain[-1][0]
    return client.post(form_url, {"new_password1": password, "new_password2": password})


def test_a_known_and_an_unknown_address_get_the_same_answer_and_only_the_known_one_a_mail(
    client, db, deliver, mailoutbox
):
    make_person("marc@example.be", language="de")
    known = ask_reset(client, deliver, "Marc@example.be")
    unknown = ask_reset(client, deliver, "nobody@example.be")
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == "/accounts/password/reset/done/"
    [mail] = mailoutbox
    assert mail.to == ["marc@example.be"]
    assert "/accounts/password/reset/" in mail.body
    assert mail.subject == "Wählen Sie ein neues Passwort für Coffre"  # marc reads German


def test_the_link_sets_a_new_password_once(client, db, deliver, mailoutbox):
    person = make_person("marc@example.be")
    ask_reset(client, deliver, "marc@example.be")
    link = link_in(mailoutbox[0], "/accounts/password/reset/")
    done = choose(client, link)
    assert done.status_code == 302 and done["Location"] == "/accounts/password/reset/complete/"
    person.refresh_from_db()
    assert person.check_password(NEW)
    record = AuditRecord.objects.get(action="person.password_reset")
    assert record.details == {"email": "marc@example.be"} and "set-password" in record.url

    again = client.get(link, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert again.context["validlink"] is False
    assert b"not valid any more" in again.content


def test_the_link_expires(client, db, deliver, mailoutbox, clock, settings):
    make_person("marc@example.be")
    ask_reset(client, deliver, "marc@example.be")
    clock.shift(timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 1))
    page = client.get(link_in(mailoutbox[0], "/accounts/password/reset/"), follow=True)
    assert page.context["validlink"] is False


def test_at_most_three_reset_mails_an_hour_for_an_address(client, db, deliver, mailoutbox, clock):
    make_person("marc@example.be")
    for _ in range(5):
        assert ask_reset(client, deliver, "marc@example.be").status_code == 302
    assert len(mailoutbox) == 3
    clock.shift(timedelta(hours=1))
    ask_reset(client, deliver, "marc@example.be")
    assert len(mailoutbox) == 4


def test_a_reset_also_confirms_an_address_waiting_for_confirmation(client, db, deliver, mailoutbox):
    make_person("waiting@example.be", verified=False)
    ask_reset(client, deliver, "waiting@example.be")
    choose(client, link_in(mailoutbox[0], "/accounts/password/reset/"))
    person = User.objects.get(email="waiting@example.be")
    assert person.is_active and person.email_verified_at is not None


def test_an_account_closed_by_the_operator_gets_no_reset(client, db, deliver, mailoutbox):
    person = make_person("closed@example.be")
    person.is_active = False
    person.save()
    ask_reset(client, deliver, "closed@example.be")
    assert mailoutbox == []


def test_changing_the_password_needs_the_current_one(login, world):
    client = login("bob")
    refused = client.post(
        "/accounts/password/change/", {"old_password": "wrong", "new_password1": NEW, "new_password2": NEW}
    )
    assert refused.status_code == 200 and refused.context["form"].errors["old_password"]
    response = client.post(
        "/accounts/password/change/", {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW}
    )
    assert response.status_code == 302 and response["Location"] == "/accounts/settings/"
    world.bob.refresh_from_db()
    assert world.bob.check_password(NEW)
    assert client.get("/accounts/settings/").status_code == 200  # still signed in
    assert AuditRecord.objects.filter(action="person.password_changed", actor="bob@alpha.example").exists()
