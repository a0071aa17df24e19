"""Documents by e-mail in a real browser (Debian's Chromium driven by Playwright, against the
production server on the test database): the client admin accepts a sender on the "E-mail
access" page and reads the activity, the owner of "My documents" accepts their own mail with one
click; plain forms, and no page breaks the Content-Security-Policy (``open_page`` fails the test
on any console error or CSP violation)."""

from coffre.intake.tests.intake_mails import invoice, receive, space_address
from coffre.mailbox.models import Ebox, Message
from coffre.mailbox.services_spaces import personal_box
from coffre.mailbox.tests.conftest import A
from tests.test_browser_mailbox import member_of_a, signed_in_page


def test_the_client_admin_accepts_a_sender_and_reads_the_activity(gunicorn_server, open_page, settings):
    settings.COFFRE_SENDER_AUTH = False  # every sender unauthenticated: each mail waits
    bob = member_of_a()
    box = Ebox.objects.get(enterprise__cbe=A)
    box.enterprise.client_admin = bob
    box.enterprise.save(update_fields=["client_admin"])
    receive(
        invoice("stranger@elsewhere.example", subject="Invoice 2026-17"),
        space_address(box, "purchases"),
        mail_from="stranger@elsewhere.example",
    )
    tab = signed_in_page(open_page, gunicorn_server, bob)
    page = tab.page

    tab.go(f"/e/{A}/")
    page.get_by_role("link", name="E-mail access").first.click()
    page.wait_for_url(f"**/e/{A}/email-access/")
    row = page.locator("tr", has_text="stranger@elsewhere.example")
    assert "Pending" in row.inner_text()
    row.get_by_role("button", name="Accept: stranger@elsewhere.example").click()
    page.get_by_text("stranger@elsewhere.example is authorized; 1 waiting e-mail was stored.").wait_for()
    assert "Authorized" in page.locator("tr", has_text="stranger@elsewhere.example").inner_text()
    assert Message.objects.filter(ebox=box, folder="purchases", origin="email").count() == 1

    page.get_by_role("link", name="Activity").click()
    page.wait_for_url(f"**/e/{A}/email-access/activity/")
    activity = page.locator("tr", has_text="Invoice 2026-17").inner_text()
    assert "Accepted, then stored" in activity and "Purchases" in activity


def test_the_owner_accepts_their_own_mail_with_one_click(gunicorn_server, open_page, settings):
    settings.COFFRE_SENDER_AUTH = False
    bob = member_of_a()
    box = personal_box(bob)
    receive(
        invoice("bob@example.be", subject="Scanned payslip"), space_address(box), mail_from="bob@example.be"
    )
    tab = signed_in_page(open_page, gunicorn_server, bob)
    page = tab.page

    tab.go("/my-documents/")
    page.get_by_role("heading", name="E-mails waiting for your approval").wait_for()
    page.locator("tr", has_text="Scanned payslip").get_by_role("button", name="Accept").click()
    page.get_by_text("The e-mail is stored.").wait_for()
    assert page.locator("table.messages tbody tr", has_text="Scanned payslip").count() == 1
    assert Message.objects.filter(ebox=box).count() == 1
