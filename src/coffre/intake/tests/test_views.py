"""The pages of the intake: E-mail access (its two tabs, the statuses and the actions, keyset pages
of the activity) and My documents (its documents, its address, the owner's waiting mails)."""

import re

import pytest
from django.test import Client

from coffre.accounts.tests.portal_people import ACTOR, world_fixture  # noqa: F401
from coffre.intake import services
from coffre.intake.models import SenderApproval
from coffre.intake.tests.intake_mails import PDF, invoice, receive, space_address
from coffre.mailbox.models import Ebox
from coffre.mailbox.services_spaces import personal_box
from coffre.mailbox.tests.conftest import sign_in
from coffre.mailbox.tests.spaces import file_document

ADMIN = frozenset({"client_admin"})


def client(person) -> Client:
    web = sign_in(person)
    web.cookies["django_language"] = "en"
    return web


@pytest.fixture
def senders(world, settings):
    """Four addresses sent mail to A (unauthenticated: each waits), then one of each status."""
    settings.COFFRE_SENDER_AUTH = False
    to = space_address(Ebox.objects.get(enterprise=world.a))
    for name in ("pending", "authorized", "refused", "blacklisted"):
        receive(
            invoice(f"{name}@elsewhere.example", subject=f"From {name}"),
            to,
            mail_from=f"{name}@elsewhere.example",
        )
    for name, decision in (("authorized", "accept"), ("refused", "refuse"), ("blacklisted", "blacklist")):
        approval = SenderApproval.objects.get(address=f"{name}@elsewhere.example")
        services.decide_sender(approval, decision, by=world.paula, kinds=ADMIN, actor=ACTOR)
    return {approval.address.split("@")[0]: approval for approval in SenderApproval.objects.all()}


def row_of(page: str, address: str) -> str:
    return re.search(rf"<tr>\s*<th scope=\"row\">{re.escape(address)}</th>(.*?)</tr>", page, re.DOTALL).group(
        1
    )


def test_the_email_tab_lists_every_address_with_its_status_and_actions(world, senders):
    page = client(world.paula).get(f"/e/{world.a.cbe}/email-access/").content.decode()
    expected = {
        "pending": ("Pending", ["accept", "refuse", "blacklist"]),
        "authorized": ("Authorized", ["refuse", "blacklist"]),
        "refused": ("Refused", ["accept", "blacklist"]),
        "blacklisted": ("Blacklisted", ["lift"]),
    }
    for name, (status, decisions) in expected.items():
        row = row_of(page, f"{name}@elsewhere.example")
        assert f'<span class="badge">{status}</span>' in row
        assert re.findall(r'name="decision" value="(\w+)"', row) == decisions
        assert 'name="csrfmiddlewaretoken"' in row  # a plain form: works without JavaScript
    # The addresses of A's spaces are on the page.
    assert re.search(r"alpha-srl\.documents\.\w+@intake\.localhost", page)
    assert re.search(r"alpha-srl\.purchases\.\w+@intake\.localhost", page)


def test_addresses_that_went_straight_in_are_listed_as_authorized(world, dns_server):
    dns_server.txt("example.be", "v=spf1 ip4:192.0.2.10 -all")
    to = space_address(Ebox.objects.get(enterprise=world.a))
    receive(invoice("bob@example.be"), to, mail_from="bob@example.be")  # a member of A
    page = client(world.paula).get(f"/e/{world.a.cbe}/email-access/").content.decode()
    row = row_of(page, "bob@example.be")
    assert '<span class="badge">Authorized</span>' in row and "A person of the enterprise" in row
    assert "Goes straight in: no decision to take." in row and 'name="decision"' not in row


def test_an_approver_of_another_kind_sees_the_addresses_without_actions(world, senders):
    from coffre.accounts import services_firms

    services_firms.attach(world.fidu_a, world.felix_c, actor=ACTOR)
    page = client(world.felix).get(f"/e/{world.a.cbe}/email-access/").content.decode()
    row = row_of(page, "pending@elsewhere.example")
    assert "Another approver decides." in row and 'name="decision"' not in row


def test_a_decision_needs_the_csrf_token(world, senders):
    web = Client(enforce_csrf_checks=True)
    web.force_login(world.paula)
    url = f"/e/{world.a.cbe}/email-access/senders/{senders['pending'].pk}/"
    assert web.post(url, {"decision": "accept"}).status_code == 403
    senders["pending"].refresh_from_db()
    assert senders["pending"].status == "pending"


def test_an_unknown_decision_is_a_bad_request(world, senders):
    url = f"/e/{world.a.cbe}/email-access/senders/{senders['pending'].pk}/"
    assert client(world.paula).post(url, {"decision": "approve-all"}).status_code == 400


def test_a_decision_that_no_longer_applies_is_said(world, senders):
    url = f"/e/{world.a.cbe}/email-access/senders/{senders['blacklisted'].pk}/"
    response = client(world.paula).post(url, {"decision": "accept"}, follow=True)
    assert "does not apply to blacklisted@elsewhere.example as it is now" in response.content.decode()


def test_the_activity_tab_lists_every_mail_in_keyset_pages(world, settings):
    settings.COFFRE_SENDER_AUTH = False
    to = space_address(Ebox.objects.get(enterprise=world.a))
    for number in range(53):
        receive(
            invoice("stranger@elsewhere.example", subject=f"Mail {number:02}"),
            to,
            mail_from="stranger@elsewhere.example",
        )
    web = client(world.paula)
    first = web.get(f"/e/{world.a.cbe}/email-access/activity/").content.decode()
    subjects = re.findall(r"Mail (\d\d)", first)
    assert subjects[:2] == ["52", "51"] and len(subjects) == 50
    older = re.search(r'<a href="([^"]+)" rel="next">Older e-mails</a>', first).group(1).replace("&amp;", "&")
    second = web.get(older).content.decode()
    assert re.findall(r"Mail (\d\d)", second) == ["02", "01", "00"]
    assert "Newest e-mails" in second
    for column in ("Received", "From", "Space", "Subject", "Attachments", "Sender authentication", "Outcome"):
        assert f'<th scope="col">{column}</th>' in first
    assert "invoice-2026-001.pdf" in first and "Waiting for approval" in first


def test_my_documents_lists_the_persons_documents_and_address(world):
    box = personal_box(world.bob)
    filed = file_document(box, PDF, subject="Payslip March", sender="bob@example.be")
    page = client(world.bob).get("/my-documents/").content.decode()
    assert "<h1>My documents</h1>" in page
    assert f'href="/my-documents/m/{filed.message_ids[0]}/"' in page
    assert re.search(r"bob\.documents\.\w+@intake\.localhost", page)
    assert "Replace this address" in page
    assert "Purchases" not in page  # a person's box has one space
    message = client(world.bob).get(f"/my-documents/m/{filed.message_ids[0]}/").content.decode()
    assert "Payslip March" in message and 'href="/my-documents/"' in message
    # Another person's document is not found, not even by its id.
    assert client(world.alice).get(f"/my-documents/m/{filed.message_ids[0]}/").status_code == 404


def test_my_documents_replaces_its_address(world):
    web = client(world.bob)
    before = re.search(r"bob\.documents\.\w+", web.get("/my-documents/").content.decode()).group(0)
    response = web.post("/my-documents/address/regenerate/", follow=True)
    after = re.search(r"bob\.documents\.\w+", response.content.decode()).group(0)
    assert after != before
