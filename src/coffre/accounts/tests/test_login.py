"""Signing in and out: rate limits per address and per client address, lockouts in the security
log, the person's language, CSRF."""

from datetime import timedelta

from django.test import Client

from coffre.accounts.models import SecurityEvent
from coffre.accounts.testing import PASSWORD, make_person

LOCKED = "Too many attempts. Try again in 15 minutes."


def attempt(client, email, password, ip="192.0.2.10"):
    """A sign-in from a browser that asks for English (the messages compared below)."""
    return client.post(
        "/accounts/login/",
        {"username": email, "password": password},
        REMOTE_ADDR=ip,
        HTTP_ACCEPT_LANGUAGE="en",
    )


def errors(response) -> list[str]:
    return list(response.context["form"].non_field_errors())


def test_the_right_password_signs_in_and_the_pages_speak_the_persons_language(client, db):
    person = make_person("marc@example.be", language="nl")
    response = attempt(client, "Marc@Example.be", PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.session["_auth_user_id"] == str(person.pk)
    assert client.cookies["django_language"].value == "nl"
    assert '<html lang="nl">' in client.get("/accounts/settings/").content.decode()


def test_the_login_page_keeps_where_the_person_was_going(client, db):
    make_person("marc@example.be")
    page = client.get("/accounts/login/?next=/accounts/settings/")
    assert 'name="next" value="/accounts/settings/"' in page.content.decode()
    response = client.post(
        "/accounts/login/?next=/accounts/settings/",
        {"username": "marc@example.be", "password": PASSWORD, "next": "/accounts/settings/"},
    )
    assert response["Location"] == "/accounts/settings/"


def test_the_sixth_attempt_after_five_wrong_passwords_is_refused_even_with_the_right_one(client, db, clock):
    person = make_person("marc@example.be")
    for number in range(1, 5):
        response = attempt(client, "marc@example.be", f"wrong-{number}")
        assert errors(response) == ["Please enter a correct e-mail address and password."]
    fifth = attempt(client, "marc@example.be", "wrong-5")
    assert errors(fifth) == ["Please enter a correct e-mail address and password.", LOCKED]

    sixth = attempt(client, "marc@example.be", PASSWORD)
    assert sixth.status_code == 200
    assert errors(sixth) == ["Please enter a correct e-mail address and password.", LOCKED]
    assert LOCKED in sixth.content.decode()
    assert "_auth_user_id" not in client.session

    [lock] = SecurityEvent.objects.filter(kind="login_locked")
    assert lock.user == person and lock.ip_address == "192.0.2.10" and lock.details["scope"] == "address"
    assert SecurityEvent.objects.filter(kind="login_failed", user=person).count() == 5

    clock.shift(timedelta(minutes=10))
    assert "Too many attempts. Try again in 5 minutes." in errors(
        attempt(client, "marc@example.be", PASSWORD)
    )
    clock.shift(timedelta(minutes=5))
    assert attempt(client, "marc@example.be", PASSWORD).status_code == 302


def test_a_locked_address_answers_alike_whether_it_has_an_account_or_not(db):
    make_person("known@example.be")
    answers = {}
    for email in ("known@example.be", "unknown@example.be"):
        client = Client()
        for number in range(6):
            response = attempt(client, email, f"wrong-{number}")
        answers[email] = (response.status_code, errors(response))
    assert answers["known@example.be"] == answers["unknown@example.be"]
    assert answers["known@example.be"][1][-1] == LOCKED
    lock = SecurityEvent.objects.get(kind="login_locked", user__isnull=True)
    assert lock.details["scope"] == "address" and lock.enterprise is None


def test_a_successful_sign_in_clears_the_count_of_wrong_passwords(client, db):
    make_person("marc@example.be")
    for number in range(4):
        attempt(client, "marc@example.be", f"wrong-{number}")
    assert attempt(client, "marc@example.be", PASSWORD).status_code == 302
    client.post("/accounts/logout/")
    for number in range(4):
        attempt(client, "marc@example.be", f"wrong-again-{number}")
    assert attempt(client, "marc@example.be", PASSWORD).status_code == 302


def test_wrong_passwords_from_one_client_address_lock_that_address_only(db, fast_hashing):
    make_person("marc@example.be")
    client = Client()
    for number in range(50):
        attempt(client, f"guess{number}@example.be", "wrong", ip="198.51.100.7")
    refused = attempt(client, "marc@example.be", PASSWORD, ip="198.51.100.7")
    assert refused.status_code == 200 and errors(refused)[-1] == LOCKED
    assert SecurityEvent.objects.filter(
        kind="login_locked", details__scope="ip", ip_address="198.51.100.7"
    ).exists()
    assert attempt(Client(), "marc@example.be", PASSWORD, ip="203.0.113.9").status_code == 302


def test_failed_sign_ins_reach_the_security_log_of_each_enterprise_of_the_person(client, world):
    attempt(client, world.accountant.email, "wrong")
    event = SecurityEvent.objects.get(kind="login_failed")
    assert event.enterprise == world.a and event.user == world.accountant


def test_logging_out_takes_a_post(login):
    client = login("bob")
    assert client.get("/accounts/logout/").status_code == 405
    assert "_auth_user_id" in client.session
    assert client.post("/accounts/logout/").status_code == 302
    assert "_auth_user_id" not in client.session


def test_sign_in_without_the_csrf_token_is_refused(db):
    make_person("marc@example.be")
    client = Client(enforce_csrf_checks=True)
    assert attempt(client, "marc@example.be", PASSWORD).status_code == 403
    page = client.get("/accounts/login/")
    token = page.cookies["csrftoken"].value
    response = client.post(
        "/accounts/login/",
        {"username": "marc@example.be", "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302


def test_a_signed_in_person_is_sent_on_from_the_login_page(login):
    assert login("bob").get("/accounts/login/").status_code == 302
