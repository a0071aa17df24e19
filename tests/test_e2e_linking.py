"""End to end in headless Chromium, against the production server: a person links their profile to a
business account, a contact removes them through the e-mailed link (once), and a collaborator marks
a client as favourite with htmx. No page may log an error or break the Content-Security-Policy
(``open_page``, coffre.testing.browser).
"""

from coffre.accounts import services_firms, services_linking
from coffre.accounts.models import AccountLink, Favourite, Membership, Role, User
from coffre.accounts.services import register_enterprise
from coffre.audit.services import Actor
from coffre.core.cbe import make_cbe
from coffre.testing import outbox
from coffre.testing.browser import BrowserPage

ACTOR = Actor.cli("e2e")
PASSWORD = "correct horse battery staple"


def log_in(tab: BrowserPage, email: str) -> None:
    tab.go("/accounts/login/")
    tab.page.get_by_label("E-mail address").fill(email)
    tab.page.get_by_label("Password").fill(PASSWORD)
    tab.page.get_by_role("button", name="Log in").click()
    tab.page.wait_for_url(lambda url: "/accounts/login/" not in url)


def test_link_then_remove_through_the_mailed_link(gunicorn_server, open_page):
    outbox.clear()
    enterprise = register_enterprise(make_cbe(2000001), "Alpha SRL", ACTOR).enterprise
    account = services_linking.set_up_account(
        "100200", enterprise=enterprise, postal_code="1000", kind="commercial", actor=ACTOR
    ).obj
    services_linking.add_contract(account, "C-1", actor=ACTOR)
    services_linking.set_contact(account, "prim@a.example", kind="primary", name="Prim", actor=ACTOR)
    services_linking.set_contact(account, "bill@a.example", kind="billing", name="Bill", actor=ACTOR)
    User.objects.create_user("dave@example.be", PASSWORD, full_name="Dave", language="en")

    person = open_page(gunicorn_server, name="dave")
    log_in(person, "dave@example.be")
    person.go("/accounts/linked-accounts/")
    person.page.get_by_label("Client number").fill("100200")
    person.page.get_by_label("Postal code of the business address").fill("1000")
    person.page.get_by_label("Contract number").fill("C-2")  # wrong
    person.page.get_by_role("button", name="Link my profile").click()
    person.page.get_by_text("These details do not match a business account.").wait_for()
    person.page.get_by_label("Contract number").fill("c-1")
    person.page.get_by_role("button", name="Link my profile").click()
    person.page.get_by_text("Your profile is linked to the business account 100200 of Alpha SRL.").wait_for()

    mails = outbox.mails()
    assert {address for mail in mails for address in mail.to} == {"prim@a.example", "bill@a.example"}
    urls = {outbox.link_in(mail, "/accounts/link-removal/") for mail in mails}
    assert len(urls) == 1  # the same link to each contact
    removal = urls.pop()

    contact = open_page(gunicorn_server, name="contact")  # a contact without any account, from the mail
    contact.go(removal)
    assert "Dave (dave@example.be) linked their profile" in contact.page.content()
    contact.page.get_by_role("button", name="Remove this person").click()
    contact.page.get_by_text("The person was removed").first.wait_for()
    contact.go(removal, status=410)
    assert "This link has expired" in contact.page.content()

    person.go("/accounts/linked-accounts/")
    assert "Your profile is not linked to any business account." in person.page.content()

    assert AccountLink.objects.get().removed_at is not None
    assert not Membership.objects.filter(user__email="dave@example.be").exists()


def test_a_collaborator_marks_a_favourite_with_htmx(gunicorn_server, open_page):
    enterprise = register_enterprise(make_cbe(2000001), "Alpha SRL", ACTOR).enterprise
    principal = User.objects.create_user("paula@example.be", PASSWORD)
    Membership.objects.create(user=principal, enterprise=enterprise, role=Role.PRINCIPAL)
    felix = User.objects.create_user("felix@example.be", PASSWORD, full_name="Felix", language="en")
    firm = services_firms.set_up_firm("Fidu Lebrun", actor=ACTOR).obj
    services_firms.set_collaborator(firm, felix, is_admin=True, actor=ACTOR)
    services_firms.grant_firm_access(enterprise, firm, granted_by=principal, actor=ACTOR)

    tab = open_page(gunicorn_server, name="felix")
    log_in(tab, "felix@example.be")
    tab.go("/accounts/portfolio/")
    button = tab.page.get_by_role("button", name="Favourite Alpha SRL")
    assert button.get_attribute("aria-pressed") == "false"
    tab.page.evaluate("window.__same_page = true")  # gone if the click reloads the page
    button.click()
    tab.page.wait_for_selector("button[aria-pressed='true']")
    assert tab.page.evaluate("window.__same_page") is True  # htmx swapped the button in place

    assert Favourite.objects.filter(collaborator__user=felix).count() == 1
