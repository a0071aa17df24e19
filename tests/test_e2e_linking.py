"""End to end in headless Chromium, against the production server: a person links their profile to a
business account, a contact removes them through the e-mailed link (once), and a collaborator marks
a client as favourite with htmx. No page may break the Content-Security-Policy.

Playwright drives Debian's ``chromium`` (``apt-get install chromium``; ``playwright install``
downloads browsers and fails here).
Playwright's sync API runs an event loop in this thread, where Django refuses database calls unless
``DJANGO_ALLOW_ASYNC_UNSAFE`` is set; the tests set it (the loop only drives the browser, and the
test touches the database only while the browser waits).
"""

import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from playwright import sync_api as playwright_api

from coffre.accounts import services_firms, services_linking
from coffre.accounts.models import AccountLink, Favourite, Membership, Role, User
from coffre.accounts.services import register_enterprise
from coffre.audit.services import Actor
from coffre.core.cbe import make_cbe

CHROMIUM = "/usr/bin/chromium"
ACTOR = Actor.cli("e2e")
PASSWORD = "correct horse battery staple"


@pytest.fixture
def browser(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def static_files():
    """The production server serves collected static files only (htmx, site.css, site.js); collect
    them before it starts (WhiteNoise indexes them at start-up)."""
    call_command("collectstatic", interactive=False, verbosity=0)
    yield
    shutil.rmtree(settings.STATIC_ROOT, ignore_errors=True)
    Path(settings.STATIC_ROOT).mkdir(exist_ok=True)


class Page:
    """A browser tab that records every Content-Security-Policy complaint."""

    def __init__(self, browser, base_url):
        self.context = browser.new_context(locale="en-US")
        self.page = self.context.new_page()
        self.base_url = base_url
        self.csp_errors: list[str] = []
        self.page.on("console", self._console)

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text:
            self.csp_errors.append(message.text)

    def go(self, path: str):
        return self.page.goto(self.base_url + path)

    def log_in(self, email: str):
        self.go("/accounts/login/")
        self.page.get_by_label("E-mail address").fill(email)
        self.page.get_by_label("Password").fill(PASSWORD)
        self.page.get_by_role("button", name="Log in").click()
        self.page.wait_for_load_state()


def outbox_mails() -> list[str]:
    outbox = Path(settings.VAR_DIR) / "outbox"
    return [path.read_text(errors="replace") for path in sorted(outbox.glob("*"))] if outbox.exists() else []


def removal_urls(text: str) -> list[str]:
    return re.findall(r"https?://\S+/accounts/link-removal/[A-Za-z0-9_-]+/", text)


def test_link_then_remove_through_the_mailed_link(gunicorn_server, browser):
    shutil.rmtree(Path(settings.VAR_DIR) / "outbox", ignore_errors=True)
    enterprise = register_enterprise(make_cbe(2000001), "Alpha SRL", ACTOR).enterprise
    account = services_linking.set_up_account(
        "100200", enterprise=enterprise, postal_code="1000", kind="commercial", actor=ACTOR
    ).obj
    services_linking.add_contract(account, "C-1", actor=ACTOR)
    services_linking.set_contact(account, "prim@a.example", kind="primary", name="Prim", actor=ACTOR)
    services_linking.set_contact(account, "bill@a.example", kind="billing", name="Bill", actor=ACTOR)
    User.objects.create_user("dave@example.be", PASSWORD, full_name="Dave", language="en")

    person = Page(browser, gunicorn_server)
    person.log_in("dave@example.be")
    person.go("/accounts/linked-accounts/")
    person.page.get_by_label("Client number").fill("100200")
    person.page.get_by_label("Postal code of the business address").fill("1000")
    person.page.get_by_label("Contract number").fill("C-2")  # wrong
    person.page.get_by_role("button", name="Link my profile").click()
    assert "These details do not match a business account." in person.page.content()
    person.page.get_by_label("Contract number").fill("c-1")
    person.page.get_by_role("button", name="Link my profile").click()
    assert "Your profile is linked to the business account 100200 of Alpha SRL." in person.page.content()

    mails = outbox_mails()
    urls = {url for mail in mails for url in removal_urls(mail)}
    assert len(urls) == 1 and "prim@a.example" in "".join(mails) and "bill@a.example" in "".join(mails)
    removal = urls.pop()

    contact = Page(browser, "")  # a contact without any account, from the mail
    contact.go(removal)
    assert "Dave (dave@example.be) linked their profile" in contact.page.content()
    contact.page.get_by_role("button", name="Remove this person").click()
    contact.page.wait_for_load_state()
    assert "The person was removed" in contact.page.content()
    response = contact.go(removal)
    assert response.status == 410 and "This link has expired" in contact.page.content()

    person.go("/accounts/linked-accounts/")
    assert "Your profile is not linked to any business account." in person.page.content()
    assert person.csp_errors == [] and contact.csp_errors == []
    person.context.close()
    contact.context.close()

    assert AccountLink.objects.get().removed_at is not None
    assert not Membership.objects.filter(user__email="dave@example.be").exists()


def test_a_collaborator_marks_a_favourite_with_htmx(static_files, gunicorn_server, browser):
    enterprise = register_enterprise(make_cbe(2000001), "Alpha SRL", ACTOR).enterprise
    principal = User.objects.create_user("paula@example.be", PASSWORD)
    Membership.objects.create(user=principal, enterprise=enterprise, role=Role.PRINCIPAL)
    felix = User.objects.create_user("felix@example.be", PASSWORD, full_name="Felix", language="en")
    firm = services_firms.set_up_firm("Fidu Lebrun", actor=ACTOR).obj
    services_firms.set_collaborator(firm, felix, is_admin=True, actor=ACTOR)
    services_firms.grant_firm_access(enterprise, firm, granted_by=principal, actor=ACTOR)

    tab = Page(browser, gunicorn_server)
    tab.log_in("felix@example.be")
    tab.go("/accounts/portfolio/")
    button = tab.page.get_by_role("button", name="Favourite Alpha SRL")
    assert button.get_attribute("aria-pressed") == "false"
    tab.page.evaluate("window.__same_page = true")  # gone if the click reloads the page
    button.click()
    tab.page.wait_for_selector("button[aria-pressed='true']")
    assert tab.page.evaluate("window.__same_page") is True  # htmx swapped the button in place
    assert tab.csp_errors == [], "\n".join(tab.csp_errors)
    tab.context.close()

    assert Favourite.objects.filter(collaborator__user=felix).count() == 1
