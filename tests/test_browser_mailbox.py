"""The web mailbox in a real browser: Debian's Chromium driven by Playwright, against the
production server (gunicorn) on the test database.

- The main PDF of a message is previewed in the message page's frame: Chromium's PDF viewer
  renders it despite the sandboxing CSP of the preview response (a frame with the ``sandbox``
  attribute would show Chromium's "blocked" page instead), and that reads the message.
- Hiding a message from the list works through htmx (the list region is replaced in place), and
  no page breaks the Content-Security-Policy (``open_page`` fails the test on any console error or
  CSP violation).
"""

from django.test import Client

from coffre.accounts.models import Membership, Role, User
from coffre.demo.pdf import simple_pdf
from coffre.mailbox.models import Message
from coffre.mailbox.tests.conftest import A, publish, setup_reference_data
from coffre.testing.browser import BrowserPage


def member_of_a() -> User:
    enterprise, _ = setup_reference_data()
    bob = User.objects.create_user("bob@example.be", None, language="en")
    Membership.objects.create(user=bob, enterprise=enterprise, role=Role.MEMBER)
    return bob


def signed_in_page(open_page, base_url: str, user: User) -> BrowserPage:
    """A browser page with the person's session (signing in itself is the accounts pages' test)."""
    client = Client()
    client.force_login(user)
    tab = open_page(base_url, name=user.email)
    tab.context.add_cookies(
        [
            {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base_url},
            {"name": "django_language", "value": "en", "url": base_url},
        ]
    )
    return tab


def test_the_main_pdf_is_previewed_and_that_reads_the_message(gunicorn_server, open_page):
    bob = member_of_a()
    message = publish(
        files=[("attestation.pdf", simple_pdf(["Attestation ONSS 2026"]), "application/pdf", True)]
    )
    tab = signed_in_page(open_page, gunicorn_server, bob)
    page = tab.page

    tab.go(f"/e/{A}/")
    row = page.locator("table.messages tbody tr", has_text="Attestation trimestrielle")
    assert "Unread" in row.inner_text()
    row.get_by_role("link").click()
    page.wait_for_url(f"**/e/{A}/m/{message.message_id}/")

    def viewer_loaded() -> bool:
        return any(f.url.startswith("chrome-extension://") for f in page.frames)

    tab.until(viewer_loaded, "Chromium's PDF viewer in the preview frame")
    assert not any(f.url.startswith("chrome-error://") for f in page.frames)
    tab.until(
        lambda: Message.objects.filter(pk=message.pk, read_at__isnull=False).exists(),
        "the message to be read",
    )


def test_hiding_from_the_list_replaces_the_list_in_place(gunicorn_server, open_page):
    bob = member_of_a()
    keep = publish(subject={"fr": "To keep"})
    hide = publish(subject={"fr": "To hide"})
    tab = signed_in_page(open_page, gunicorn_server, bob)
    page = tab.page

    tab.go(f"/e/{A}/")
    page.get_by_label("Select “To hide”").check()
    page.get_by_role("button", name="Hide", exact=True).click()

    page.get_by_text("1 message is hidden.").wait_for()
    assert page.url.rstrip("/").endswith(f"/e/{A}")  # no navigation: htmx swapped the region
    assert page.locator("table.messages tbody tr").count() == 1
    assert "To keep" in page.locator("table.messages").inner_text()
    assert list(Message.objects.order_by("pk").values_list("visible", flat=True)) == [True, False]
    assert keep.pk < hide.pk

    select_all = page.get_by_label("Select all messages on this page")
    select_all.check()
    assert page.get_by_label("Select “To keep”").is_checked()
    page.get_by_label("Select “To keep”").uncheck()
    assert not select_all.is_checked()  # else the form would still act on the whole page
