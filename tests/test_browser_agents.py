"""Agents in a real browser (Debian's Chromium driven by Playwright, against the production server on
the test database), fetching from the fake provider portal "Énergie Demo" served over HTTP by the
test: an access manager adds the demo-energy agent from the catalog to the Purchases space, its
first sync runs (the worker's task, run here: no worker runs in the test), the connection's page
turns to "OK" by itself (htmx refreshes its status region) and the bills are in Purchases; a person
whose agent's login fails replaces the credentials in "My documents" and the bills come. No page
breaks the Content-Security-Policy (``open_page`` fails the test on any console error or CSP
violation)."""

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from coffre.accounts.models import Membership, Role, User
from coffre.agents.fakeportal.server import serve
from coffre.agents.fakeportal.state import PortalState
from coffre.agents.models import Connection, Status
from coffre.agents.tests.conftest import run_enqueued
from coffre.mailbox.models import Message
from coffre.mailbox.services_spaces import personal_box
from coffre.mailbox.tests.conftest import A, setup_reference_data
from coffre.testing.browser import BrowserPage
from tests.test_browser_mailbox import signed_in_page

SHOP = "shop@alpha.example"
SHOP_PASSWORD = "Shop-S3cret-pw!"
SYNC = "coffre.agents.tasks.sync_connection"
WORKS = "The agent fetches the new documents at its usual frequency."


@pytest.fixture
def energy_portal(settings):
    """The fake provider portal on a free port; the demo-energy agent logs in there."""
    state = PortalState()
    state.add_account(SHOP, SHOP_PASSWORD, "ok", bills=12)
    with serve(state) as portal:
        settings.COFFRE_DEMO_PORTAL_URL = portal.url
        yield portal


def manager_page(open_page, base_url: str) -> BrowserPage:
    """alice, access manager of A, signed in with her second factor verified (as she must be)."""
    enterprise, _ = setup_reference_data()
    alice = User.objects.create_user("alice@example.be", None, language="en")
    Membership.objects.create(user=alice, enterprise=enterprise, role=Role.MANAGER)
    device = TOTPDevice.objects.create(user=alice, name="phone", confirmed=True)
    client = Client()
    client.force_login(alice)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    tab = open_page(base_url, name=alice.email)
    tab.context.add_cookies(
        [
            {"name": "sessionid", "value": session.session_key, "url": base_url},
            {"name": "django_language", "value": "en", "url": base_url},
        ]
    )
    return tab


def test_an_access_manager_adds_an_agent_from_the_catalog_and_the_bills_arrive(
    gunicorn_server, open_page, energy_portal
):
    tab = manager_page(open_page, gunicorn_server)
    page = tab.page

    tab.go(f"/e/{A}/")
    page.get_by_role("navigation", name="e-Box of Alice & Co").get_by_role("link", name="Agents").click()
    page.wait_for_url(f"**/e/{A}/agents/")
    assert "No agent fetches documents into this space yet." in tab.text()
    page.get_by_role("link", name="Add an agent to Purchases").click()
    page.wait_for_url(f"**/e/{A}/agents/catalog/?folder=purchases")
    page.get_by_label("Name or provider").fill("énergie")
    page.get_by_label("Category").select_option("energy")
    page.get_by_role("button", name="Search").click()
    card = page.locator(".agent-catalog li", has_text="Énergie Demo")
    assert "every 3 days" in card.inner_text()
    card.get_by_role("link", name="Add Énergie Demo").click()
    page.wait_for_url(f"**/e/{A}/agents/add/demo-energy/?folder=purchases")

    assert page.get_by_label("Purchases").is_checked()  # the space the manager came from
    page.get_by_label("Name of this account (optional)").fill("Shop electricity")
    page.get_by_label("Login").fill(SHOP)
    password = page.get_by_label("Password")
    assert password.get_attribute("type") == "password"
    assert password.get_attribute("autocomplete") == "new-password"
    password.fill(SHOP_PASSWORD)
    page.get_by_role("button", name="Add the agent").click()
    page.get_by_text("The agent is added: its first synchronisation starts now.").wait_for()
    assert "Synchronisation on its way" in tab.text()
    connection = Connection.objects.get()
    assert tab.path() == f"/e/{A}/agents/{connection.pk}/"

    # The worker's job: the first sync, queued when the agent was added.
    assert run_enqueued(SYNC) == [Status.OK]
    # No reload: the status region asks the server again while a sync is on its way.
    page.get_by_text(WORKS).wait_for()
    assert "OK" in page.locator("#connection-status .badge").inner_text()
    assert SHOP_PASSWORD not in page.content()

    tab.go(f"/e/{A}/?folder=purchases")
    rows = page.locator("table.messages tbody tr")
    assert rows.count() == 12
    assert "Énergie Demo SA" in rows.first.inner_text()
    assert Message.objects.filter(ebox__enterprise__cbe=A, folder="purchases", origin="agent").count() == 12

    tab.go(f"/e/{A}/agents/")
    row = page.locator("table.agents tbody tr", has_text="Shop electricity")
    assert "OK" in row.inner_text() and "12" in row.inner_text()


def test_a_login_that_fails_is_mended_by_replacing_the_credentials(gunicorn_server, open_page, energy_portal):
    setup_reference_data()
    bob = User.objects.create_user("bob@example.be", None, language="en")
    tab = signed_in_page(open_page, gunicorn_server, bob)
    page = tab.page

    tab.go("/my-documents/")
    page.get_by_role("link", name="Agents", exact=True).click()
    page.wait_for_url("**/my-documents/agents/")
    page.get_by_role("link", name="Add an agent").click()
    page.locator(".agent-catalog li", has_text="Énergie Demo").get_by_role(
        "link", name="Add Énergie Demo"
    ).click()
    page.get_by_label("Login").fill(SHOP)
    page.get_by_label("Password").fill("an old password")
    page.get_by_role("button", name="Add the agent").click()
    page.get_by_text("The agent is added").wait_for()
    assert run_enqueued(SYNC) == [Status.LOGIN_FAILED]

    page.get_by_text("The provider refused the login").wait_for()
    assert "Login failed" in page.locator("#connection-status .badge").inner_text()
    assert "Waits for you (never retried by itself)" in tab.text()
    assert page.get_by_role("button", name="Sync now").count() == 0
    page.locator("#connection-status").get_by_role("link", name="Replace the credentials").click()
    page.wait_for_url("**/credentials/")
    assert page.get_by_label("Login").input_value() == SHOP  # shown again
    assert page.get_by_label("Password").input_value() == ""  # never
    page.get_by_label("Password").fill(SHOP_PASSWORD)
    page.get_by_role("button", name="Save the new credentials").click()
    page.get_by_text("The new credentials are saved: the agent tries them now.").wait_for()

    assert run_enqueued(SYNC) == [Status.OK]
    page.get_by_text(WORKS).wait_for()
    assert Message.objects.filter(ebox=personal_box(bob), origin="agent").count() == 12
    history = page.locator("#history tbody tr")
    assert history.count() == 1  # the page was not reloaded since the failure: reload to see both
    tab.go(tab.path())
    assert page.locator("#history tbody tr").count() == 2
    assert "Login failed" in page.locator("#history tbody tr").last.inner_text()
