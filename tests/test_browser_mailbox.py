"""The web mailbox in a real browser: Debian's Chromium driven by Playwright, against the
production server (gunicorn) on the test database.

- The main PDF of a message is previewed in the message page's frame: Chromium's PDF viewer
  renders it despite the sandboxing CSP of the preview response (a frame with the ``sandbox``
  attribute would show Chromium's "blocked" page instead), and that reads the message.
- Hiding a message from the list works through htmx (the list region is replaced in place), and
  no page breaks the Content-Security-Policy.
"""

import time

import pytest
from django.core.management import call_command
from django.db import connections
from django.test import Client
from playwright.sync_api import sync_playwright

from coffre.accounts.models import Membership, Role, User
from coffre.demo.pdf import simple_pdf
from coffre.mailbox.models import Message
from coffre.mailbox.tests.conftest import A, publish, setup_reference_data
from coffre.testing.live import GunicornServer

pytestmark = pytest.mark.live

CHROMIUM = "/usr/bin/chromium"
WAIT_SECONDS = 30  # an upper bound for the browser to get somewhere, not a measured time


@pytest.fixture
def server(transactional_db, settings, tmp_path):
    # Documents of these tests go to a directory of their own, shared with the server.
    blobs = tmp_path / "blobs"
    settings.STORAGES = {
        **settings.STORAGES,
        "blobs": {**settings.STORAGES["blobs"], "OPTIONS": {"location": str(blobs)}},
    }
    call_command("collectstatic", interactive=False, verbosity=0)  # before the server scans them
    with GunicornServer(env={"COFFRE_BLOB_DIR": str(blobs)}) as running:
        yield running.url


@pytest.fixture
def browser(monkeypatch):
    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are safe.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        yield chromium
        chromium.close()
        # While Playwright's event loop runs, the ORM's calls get connections of their own (asgiref's
        # Local follows the loop's context): close them, or PostgreSQL keeps the test database busy.
        connections.close_all()


def member_of_a() -> User:
    enterprise, _ = setup_reference_data()
    bob = User.objects.create_user("bob@example.be", None, language="en")
    Membership.objects.create(user=bob, enterprise=enterprise, role=Role.MEMBER)
    return bob


def signed_in_page(browser, base_url: str, user: User):
    """A browser page with the person's session (signing in itself is the accounts pages' test)."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(base_url=base_url, locale="en-GB")
    context.add_cookies(
        [
            {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base_url},
            {"name": "django_language", "value": "en", "url": base_url},
        ]
    )
    page = context.new_page()
    page.problems = []
    page.on("console", lambda entry: page.problems.append(entry.text) if entry.type == "error" else None)
    page.on("pageerror", lambda error: page.problems.append(str(error)))
    return page


def until(page, condition, what: str):
    """Wait for ``condition`` while the browser goes on (``wait_for_timeout`` lets Playwright
    handle the browser's events; ``time.sleep`` would freeze them)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what}")
        page.wait_for_timeout(200)


def csp_problems(page) -> list[str]:
    return [text for text in page.problems if "Content Security Policy" in text]


def test_the_main_pdf_is_previewed_and_that_reads_the_message(server, browser):
    bob = member_of_a()
    message = publish(
        files=[("attestation.pdf", simple_pdf(["Attestation ONSS 2026"]), "application/pdf", True)]
    )
    page = signed_in_page(browser, server, bob)

    page.goto(f"/e/{A}/")
    row = page.locator("table.messages tbody tr", has_text="Attestation trimestrielle")
    assert "Unread" in row.inner_text()
    row.get_by_role("link").click()
    page.wait_for_url(f"**/e/{A}/m/{message.message_id}/")

    def viewer_loaded() -> bool:
        return any(f.url.startswith("chrome-extension://") for f in page.frames)

    until(page, viewer_loaded, "Chromium's PDF viewer in the preview frame")
    assert not any(f.url.startswith("chrome-error://") for f in page.frames)
    until(
        page,
        lambda: Message.objects.filter(pk=message.pk, read_at__isnull=False).exists(),
        "the message to be read",
    )
    assert csp_problems(page) == []


def test_hiding_from_the_list_replaces_the_list_in_place(server, browser):
    bob = member_of_a()
    keep = publish(subject={"fr": "To keep"})
    hide = publish(subject={"fr": "To hide"})
    page = signed_in_page(browser, server, bob)

    page.goto(f"/e/{A}/")
    page.get_by_label("Select “To hide”").check()
    page.get_by_role("button", name="Hide", exact=True).click()

    page.get_by_text("1 message is hidden.").wait_for()
    assert page.url.rstrip("/").endswith(f"/e/{A}")  # no navigation: htmx swapped the region
    assert page.locator("table.messages tbody tr").count() == 1
    assert "To keep" in page.locator("table.messages").inner_text()
    assert list(Message.objects.order_by("pk").values_list("visible", flat=True)) == [True, False]
    assert keep.pk < hide.pk
    assert csp_problems(page) == []

    select_all = page.get_by_label("Select all messages on this page")
    select_all.check()
    assert page.get_by_label("Select “To keep”").is_checked()
    page.get_by_label("Select “To keep”").uncheck()
    assert not select_all.is_checked()  # else the form would still act on the whole page
