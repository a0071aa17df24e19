"""The operator's outbox in a real browser (Chromium, production server): the list, one mail, and
its HTML rendered inside the sandboxed frame, with no Content-Security-Policy violation on any
page (``open_page`` fails the test on one)."""

from django.test import Client

from coffre.accounts.models import User
from coffre.outbox import services
from coffre.outbox.models import OutgoingMail

HTML = '<p style="font-weight: bold">Bonjour de Coffre</p>'


def test_the_operator_reads_a_mail_and_its_html(gunicorn_server, open_page):
    admin = User.objects.create_superuser("admin@coffre.example", "Correct-horse-battery-42")
    mail, _ = services.queue_mail(
        key="browser", purpose="test", to="alice@example.be", prefix="accounts/mail/verify_email",
        context={"link": "https://coffre.example/verify/abc", "days": 3}, language="en",
    )
    OutgoingMail.objects.filter(pk=mail.pk).update(html=HTML)
    client = Client()
    client.force_login(admin)
    tab = open_page(gunicorn_server, name="operator")
    tab.context.add_cookies(
        [
            {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": gunicorn_server},
            {"name": "django_language", "value": "en", "url": gunicorn_server},
        ]
    )
    page = tab.page

    tab.go("/operator/outbox/")
    row = page.locator("tbody tr", has_text="alice@example.be")
    assert "Queued" in row.inner_text() or "Sent" in row.inner_text()
    row.get_by_role("link").click()
    page.wait_for_url(f"**/operator/outbox/{mail.pk}/")
    assert "https://coffre.example/verify/abc" in tab.text()

    frame = page.frame_locator("iframe.preview")
    frame.get_by_text("Bonjour de Coffre").wait_for()
    assert frame.locator("p").evaluate("p => getComputedStyle(p).fontWeight") == "700"
