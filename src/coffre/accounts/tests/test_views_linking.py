"""The linking pages as people use them: the form, the e-mailed removal link, reports."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from coffre.accounts import services_linking
from coffre.accounts.models import AccountLink, Membership, SecurityEvent
from coffre.accounts.tests.portal_people import (  # noqa: F401
    ACTOR,
    assert_no_inline_code,
    sign_in,
    world_fixture,
)
from coffre.audit.models import AuditRecord

LINKED = reverse("accounts:linked_accounts")
GENERIC = "These details do not match a business account."
SUPPORT = "Helpdesk: +32 2 555 01 01"


@pytest.fixture(autouse=True)
def english_and_support(settings):
    settings.LANGUAGE_CODE = "en"
    settings.COFFRE_SUPPORT_CONTACT = SUPPORT


def signed_in(client, user):
    return sign_in(client, user)


def post_link(client, **values):
    data = {"client_number": "100200", "postal_code": "1000", "contract_number": "C-1", **values}
    return client.post(LINKED, data, HTTP_ACCEPT_LANGUAGE="en")


def removal_path(mail) -> str:
    match = re.search(r"https?://[^/]+(/accounts/link-removal/[A-Za-z0-9_-]+/)", mail.body)
    assert match, mail.body
    return match.group(1)


@pytest.fixture
def linked(world, client, mailoutbox, django_capture_on_commit_callbacks):
    """dave linked to the commercial account through the page; returns the removal path."""
    signed_in(client, world.dave)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_link(client)
    assert response.status_code == 302
    path = removal_path(mailoutbox[0])
    mailoutbox.clear()
    client.logout()
    return path


@pytest.mark.parametrize("name", ["alice", "bob", "charlie", "felix", "olga", "dave"])
def test_every_signed_in_person_has_a_linked_accounts_page(world, client, name):
    response = signed_in(client, world.person(name)).get(LINKED)
    assert response.status_code == 200
    assert b'<label for="id_client_number"' in response.content
    assert_no_inline_code(response.content.decode())


def test_anonymous_people_are_sent_to_sign_in(world, client):
    response = client.get(LINKED)
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    assert client.post(LINKED, {"client_number": "100200"}).status_code == 302
    assert not SecurityEvent.objects.exists()


def test_linking_through_the_page(world, client, mailoutbox, django_capture_on_commit_callbacks):
    signed_in(client, world.dave)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_link(client)
    assert response.status_code == 302
    page = client.get(LINKED).content.decode()
    assert "100200" in page and "Alpha SRL" in page
    assert len(mailoutbox) == 2
    assert client.get(reverse("mailbox:list", args=[world.a.cbe])).status_code == 200


@pytest.mark.parametrize(
    "wrong",
    [
        {"client_number": "100201"},
        {"postal_code": "1001"},
        {"contract_number": "C-9"},
        {"contract_number": ""},
    ],
)
def test_the_form_never_tells_which_field_was_wrong(world, client, wrong):
    signed_in(client, world.dave)
    response = post_link(client, **wrong)
    assert response.status_code == 200
    page = response.content.decode()
    assert GENERIC in page
    # One message for the whole form, none next to a field.
    assert page.count('class="errorlist') == 1 and 'class="errorlist nonfield"' in page
    assert "aria-invalid" not in page


def test_the_refusal_page_is_the_same_whichever_field_was_wrong(world, client):
    signed_in(client, world.dave)

    def error_block(**wrong):
        page = post_link(client, **wrong).content.decode()
        return re.search(r'<ul class="errorlist nonfield">.*?</ul>', page, re.DOTALL).group(0)

    assert (
        error_block(client_number="999999")
        == error_block(postal_code="9999")
        == error_block(contract_number="X")
    )


def test_a_missing_value_is_told_next_to_its_field(world, client):
    signed_in(client, world.dave)
    page = post_link(client, postal_code="").content.decode()
    assert "This field is required." in page
    assert GENERIC not in page
    assert not SecurityEvent.objects.exists()  # not an attempt


def test_too_many_attempts_are_refused_with_their_own_message(world, client):
    signed_in(client, world.dave)
    limit, _ = services_linking.PERSON_FAILURES
    for _ in range(limit):
        post_link(client, postal_code="9999")
    page = post_link(client).content.decode()
    assert "Too many attempts" in page and GENERIC not in page
    assert not AccountLink.objects.exists()


def test_the_removal_link_asks_before_removing(world, client, linked):
    response = client.get(linked)  # anonymous: the contacts need no account
    assert response.status_code == 200
    page = response.content.decode()
    assert "dave@example.be" in page and "100200" in page and "Remove this person" in page
    assert "no-cache" in response["Cache-Control"]
    assert_no_inline_code(page)
    assert AccountLink.objects.get().removed_at is None  # a GET (a mail scanner) removes nobody
    assert Membership.objects.filter(user=world.dave, enterprise=world.a).exists()


def test_the_removal_link_removes_once_then_says_it_expired(world, client, linked):
    response = client.post(linked)
    assert response.status_code == 200 and "The person was removed" in response.content.decode()
    assert AccountLink.objects.get().removed_at is not None
    assert not Membership.objects.filter(user=world.dave, enterprise=world.a).exists()
    for again in (client.get(linked), client.post(linked)):
        assert again.status_code == 410
        page = again.content.decode()
        assert "This link has expired" in page and SUPPORT in page
    assert SecurityEvent.objects.filter(kind="account_link_removed").count() == 1


def test_the_removal_link_expires_after_30_days(
    world, client, clock, mailoutbox, django_capture_on_commit_callbacks
):
    signed_in(client, world.dave)
    with django_capture_on_commit_callbacks(execute=True):
        post_link(client)
    path = removal_path(mailoutbox[0])
    client.logout()
    clock.shift(timedelta(days=29, hours=23))
    assert client.get(path).status_code == 200
    clock.shift(timedelta(hours=1))
    for response in (client.get(path), client.post(path)):
        assert response.status_code == 410
        assert SUPPORT in response.content.decode()
    assert AccountLink.objects.get().removed_at is None


def test_the_expired_page_without_a_support_setting_names_the_operator(world, client, settings):
    settings.COFFRE_SUPPORT_CONTACT = ""
    response = client.get(reverse("accounts:link_removal", args=["not-a-token"]))
    assert response.status_code == 404
    assert "the operator of this service" in response.content.decode()


def test_the_token_never_reaches_the_audit_trail(world, client, linked):
    client.post(linked)
    token = linked.rstrip("/").rsplit("/", 1)[1]
    record = AuditRecord.objects.get(action="account_link.remove")
    assert token not in record.url and token not in str(record.details)
    assert record.actor.startswith("removal link #")


def test_a_removed_person_links_again_through_the_page(
    world, client, linked, mailoutbox, django_capture_on_commit_callbacks
):
    client.post(linked)
    signed_in(client, world.dave)
    with django_capture_on_commit_callbacks(execute=True):
        assert post_link(client).status_code == 302
    assert len(mailoutbox) == 2 and removal_path(mailoutbox[0]) != linked
    assert AccountLink.objects.filter(removed_at__isnull=True).count() == 1


def test_no_page_offers_to_send_the_mail_again(world, client, linked):
    for page in (client.get(linked), signed_in(client, world.dave).get(LINKED)):
        text = page.content.decode().lower()
        assert "resend" not in text and "send again" not in text and "send it again" not in text


def test_report_from_the_removal_page_alerts_the_principal_managers(
    world, client, linked, mailoutbox, django_capture_on_commit_callbacks
):
    report = linked + "report/"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(report)
    assert response.status_code == 200 and "Suspicious activity reported" in response.content.decode()
    assert sorted(mail.to[0] for mail in mailoutbox) == ["cora@example.be", "paula@example.be"]
    assert SecurityEvent.objects.get(kind="suspicious_activity").details["reported_by"] == "contact"
    assert client.get(report).status_code == 405


def test_report_works_after_removal_but_not_after_30_days(
    world, client, clock, linked, mailoutbox, django_capture_on_commit_callbacks
):
    client.post(linked)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(linked + "report/").status_code == 200
    assert len(mailoutbox) == 2
    clock.shift(timedelta(days=31))
    response = client.post(linked + "report/")
    assert response.status_code == 410 and SUPPORT in response.content.decode()
    assert SecurityEvent.objects.filter(kind="suspicious_activity").count() == 1


def test_report_from_the_linked_accounts_list(world, client, mailoutbox, django_capture_on_commit_callbacks):
    signed_in(client, world.dave)
    post_link(client)
    link = AccountLink.objects.get()
    page = client.get(LINKED).content.decode()
    assert reverse("accounts:report_link", args=[link.pk]) in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:report_link", args=[link.pk]))
    assert response.status_code == 302
    assert sorted(mail.to[0] for mail in mailoutbox) == ["cora@example.be", "paula@example.be"]
    event = SecurityEvent.objects.get(kind="suspicious_activity")
    assert event.user == world.dave and event.details["reported_by"] == "linked person"


@pytest.mark.parametrize("name", ["alice", "bob", "charlie", "felix", "olga"])
def test_nobody_else_reports_or_removes_a_persons_link(world, client, name):
    link = services_linking.link_account(
        world.dave,
        client_number="100200",
        postal_code="1000",
        contract_number="C-1",
        actor=ACTOR,
        base_url="http://x/",
    ).link
    signed_in(client, world.person(name))
    assert client.post(reverse("accounts:report_link", args=[link.pk])).status_code == 404
    assert client.post(reverse("accounts:unlink_own", args=[link.pk])).status_code == 404
    assert AccountLink.objects.get().removed_at is None
    assert not SecurityEvent.objects.filter(kind="suspicious_activity").exists()


def test_anonymous_people_neither_report_nor_unlink(world, client):
    link = services_linking.link_account(
        world.dave,
        client_number="100200",
        postal_code="1000",
        contract_number="C-1",
        actor=ACTOR,
        base_url="http://x/",
    ).link
    for name in ("report_link", "unlink_own"):
        response = client.post(reverse(f"accounts:{name}", args=[link.pk]))
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    assert AccountLink.objects.get().removed_at is None


def test_the_person_removes_their_own_link(world, client):
    signed_in(client, world.dave)
    post_link(client)
    link = AccountLink.objects.get()
    assert client.get(reverse("accounts:unlink_own", args=[link.pk])).status_code == 405
    assert client.post(reverse("accounts:unlink_own", args=[link.pk])).status_code == 302
    assert AccountLink.objects.get().removed_at is not None
    assert client.get(reverse("mailbox:list", args=[world.a.cbe])).status_code == 404
