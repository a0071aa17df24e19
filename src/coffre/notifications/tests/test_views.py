"""The "Is this e-mail genuine?" page (no login, CSRF, rate-limited, translated) and the instant
alerts form of the settings page, tried by each named person."""

import pytest
from django.test import Client
from django.urls import reverse

from coffre.accounts.models import Membership
from coffre.mailbox.tests.conftest import A, B, publish
from coffre.notifications import codes
from coffre.notifications.models import AlertSubscription, Digest
from coffre.notifications.tests.conftest import brussels, night
from coffre.notifications.views import GENUINE_LIMIT

GENUINE = "/genuine/"


@pytest.fixture
def digest(world, clock) -> Digest:
    clock.move_to(brussels("2026-03-02 10:00"))
    publish(A)
    night(clock, "2026-03-03 02:00")
    return Digest.objects.get()


def visitor(**extra) -> Client:
    """A visitor whose browser asks for English (without it, the page speaks French)."""
    return Client(HTTP_ACCEPT_LANGUAGE="en", **extra)


def check(client: Client, code: str):
    return client.post(GENUINE, {"code": code})


def test_the_page_is_open_without_login_and_linked_from_the_login_page(db):
    assert reverse("notifications:genuine") == GENUINE
    page = Client().get(GENUINE)
    assert page.status_code == 200
    assert b'name="code"' in page.content and b'for="id_code"' in page.content
    assert GENUINE.encode() in Client().get(reverse("accounts:login")).content


def test_a_code_sent_says_when_and_to_which_masked_address(digest, clock):
    clock.move_to(brussels("2026-03-05 09:00"))
    typed = codes.display(digest.code).lower().replace("-", " ")  # as a person may type it
    page = check(visitor(), typed)
    text = page.content.decode()
    assert page.status_code == 200
    assert "Coffre sent an e-mail with this code" in text
    assert "i***@a***.be" in text  # info@alice-co.be
    assert "info@alice-co.be" not in text
    assert "March 3, 2026, 2 a.m." in text  # the night of the digest, in English
    assert "Nightly summary" in text


def test_an_unknown_code_says_phishing_and_what_to_do(digest):
    text = check(visitor(), codes.new_code()).content.decode()
    assert "Coffre never sent an e-mail with this code" in text
    assert "Treat the e-mail as phishing" in text
    assert "never type your password" in text
    assert "***" not in text


def test_a_malformed_code_is_shown_next_to_the_field(db):
    page = check(visitor(), "1234")
    assert page.status_code == 200
    assert "A reference code has 16 letters and digits" in page.content.decode()
    assert "never sent" not in page.content.decode()


def test_the_page_speaks_the_visitor_language(db):
    page = Client().get(GENUINE, HTTP_ACCEPT_LANGUAGE="nl")
    assert page.status_code == 200
    assert b'lang="nl"' in page.content
    assert "<h1>Is deze e-mail echt?</h1>" in page.content.decode()


def test_posting_needs_the_csrf_token(digest):
    client = Client(enforce_csrf_checks=True)
    assert check(client, digest.code).status_code == 403
    client.get(GENUINE)
    token = client.cookies["csrftoken"].value
    assert client.post(GENUINE, {"code": digest.code, "csrfmiddlewaretoken": token}).status_code == 200


def test_checks_are_rate_limited_per_client(digest):
    client = visitor(REMOTE_ADDR="192.0.2.7")
    limit, _window = GENUINE_LIMIT
    for _ in range(limit):
        assert check(client, codes.new_code()).status_code == 200
    refused = check(client, digest.code)
    assert refused.status_code == 429
    assert "Coffre sent an e-mail" not in refused.content.decode()
    assert check(Client(REMOTE_ADDR="192.0.2.8"), digest.code).status_code == 200


def test_the_code_link_prefills_the_field(db):
    page = Client().get(GENUINE + "?code=7KQ2-M9XD-4HTB-PW3R")
    assert b'value="7KQ2-M9XD-4HTB-PW3R"' in page.content


# --- instant alerts in the settings page ----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "offered", "not_offered"),
    [("alice", [A], [B]), ("bob", [A], [B]), ("ann", [A], [B]), ("carl", [A], [B]), ("charlie", [B], [A])],
)
def test_the_settings_page_offers_the_eboxes_the_person_reads(world, name, offered, not_offered):
    page = world.client(name).get(reverse("accounts:settings"))
    text = page.content.decode()
    assert page.status_code == 200
    assert 'id="alerts-heading"' in text
    for cbe in offered:
        assert f"({cbe})" in text
    for cbe in not_offered:
        assert f"({cbe})" not in text


def test_turning_alerts_on_and_off(world):
    bob = world.client("bob")
    answer = bob.post(reverse("notifications:instant_alerts"), {"enterprises": [world.a.pk]})
    assert answer.status_code == 302 and answer["Location"].startswith(reverse("accounts:settings"))
    assert list(AlertSubscription.objects.values_list("user__email", "enterprise__cbe")) == [("bob@example.be", A)]
    assert 'checked' in bob.get(reverse("accounts:settings")).content.decode().split('id="alerts-heading"')[1]
    bob.post(reverse("notifications:instant_alerts"), {})
    assert not AlertSubscription.objects.exists()


def test_a_person_cannot_ask_for_alerts_of_an_ebox_they_cannot_read(world):
    charlie = world.client("charlie")
    answer = charlie.post(reverse("notifications:instant_alerts"), {"enterprises": [world.a.pk]})
    assert answer.status_code == 302
    assert not AlertSubscription.objects.exists()


def test_the_alerts_form_needs_a_signed_in_person(world):
    answer = Client().post(reverse("notifications:instant_alerts"), {"enterprises": [world.a.pk]})
    assert answer.status_code == 302 and reverse("accounts:login") in answer["Location"]
    assert not AlertSubscription.objects.exists()


def test_a_person_removed_from_the_enterprise_is_no_longer_offered_it(world):
    Membership.objects.filter(user=world.people["bob"]).delete()
    text = world.client("bob").get(reverse("accounts:settings")).content.decode()
    assert f"({A})" not in text
