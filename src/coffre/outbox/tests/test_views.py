"""The operator's outbox pages: for staff only, newest first by keyset pages, content shown only
while mail stays on this machine, HTML only in a sandboxed frame."""

from datetime import timedelta

import pytest
from django.test import Client

from coffre.accounts.models import Role, User
from coffre.accounts.testing import give_role, make_person
from coffre.outbox import selectors, services
from coffre.outbox.models import OutgoingMail
from coffre.outbox.tests.conftest import queue

LIST = "/operator/outbox/"


@pytest.fixture
def operator(db) -> Client:
    admin = User.objects.create_superuser("admin@coffre.example", "Correct-horse-battery-42")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(admin)
    return client


@pytest.fixture
def people(ebox):
    alice = make_person("alice@example.be")
    give_role(ebox.enterprise, alice, Role.MEMBER)  # a manager would be sent to set up two-factor first
    staff_without_flag = make_person("bob@example.be")
    return {"alice": alice, "bob": staff_without_flag}


def client_of(person=None) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if person is not None:
        client.force_login(person)
    return client


def test_the_pages_are_for_the_operator_only(operator, people, clock):
    mail = queue()
    OutgoingMail.objects.filter(pk=mail.pk).update(html="<p>Bonjour</p>")
    pages = [LIST, f"{LIST}{mail.pk}/", f"{LIST}{mail.pk}/html/"]
    for page in pages:
        assert operator.get(page).status_code == 200
        assert client_of(people["alice"]).get(page).status_code == 404
        anonymous = client_of().get(page)
        assert anonymous.status_code == 302 and anonymous["Location"].startswith("/admin/login/?next=")
    inactive = User.objects.create_user("former@coffre.example", "x", is_staff=True, is_active=False)
    assert client_of(inactive).get(LIST).status_code in (302, 404)


def test_the_list_shows_the_delivery_of_each_mail_newest_first(operator, clock, settings):
    first = queue("first")
    clock.shift(timedelta(minutes=1))
    second = queue("second", to="bob@example.be")
    OutgoingMail.objects.filter(pk=second.pk).update(attempts=2, last_error="SMTP 451 4.3.0 Try again later")
    response = operator.get(LIST)
    content = response.content.decode()
    assert response["Cache-Control"].startswith("private") or "no-store" in response["Cache-Control"]
    assert content.index("bob@example.be") < content.index("alice@example.be")
    assert "SMTP 451 4.3.0 Try again later" in content
    assert first.subject in content and "verify_email" not in content  # purpose "test" here
    assert "<th scope=\"col\">Attempts</th>" in content


def test_keyset_pages_walk_every_mail_once(operator, clock):
    mails = []
    for index in range(5):
        mails.append(queue(f"k{index}", to=f"p{index}@example.be"))
        if index != 2:  # two mails queued at the same instant: the id breaks the tie
            clock.shift(timedelta(seconds=1))
    seen, url = [], LIST
    while url:
        cursor = selectors.Cursor.decode(url.partition("before=")[2] or None)
        page = selectors.mail_page(size=2, before=cursor)
        seen += [mail.pk for mail in page.mails]
        url = f"{LIST}?before={page.next_cursor}" if page.next_cursor else ""
    assert seen == [mail.pk for mail in reversed(mails)]

    response = operator.get(f"{LIST}?status=queued")
    assert response.status_code == 200


def test_the_pager_links_lead_to_older_mails(operator, clock):
    for index in range(selectors.PAGE_SIZE + 1):
        queue(f"k{index}", to=f"p{index}@example.be")
        clock.shift(timedelta(seconds=1))
    content = operator.get(LIST).content.decode()
    assert "p0@example.be" not in content and f"p{selectors.PAGE_SIZE}@example.be" in content
    older = content.split('rel="next"', 1)[0].rsplit('href="', 1)[1].split('"', 1)[0]
    older_page = operator.get(older.replace("&amp;", "&")).content.decode()
    assert "p0@example.be" in older_page and "p1@example.be" not in older_page
    assert 'href="/operator/outbox/">Newest</a>' in older_page
    assert operator.get(f"{LIST}?before=garbage").status_code == 200


def test_one_mail_with_its_text_and_its_html_in_a_sandboxed_frame(operator, clock, settings):
    settings.COFFRE_BOUNCE_DOMAIN = "bounces.coffre.test"
    mail = queue()
    OutgoingMail.objects.filter(pk=mail.pk).update(html="<p>Bonjour</p><script>alert(1)</script>")
    content = operator.get(f"{LIST}{mail.pk}/").content.decode()
    assert "https://coffre.example/verify/abc" in content  # the text
    assert f"bounces+{mail.bounce_token}@bounces.coffre.test" in content
    assert mail.message_id.replace("<", "&lt;").replace(">", "&gt;") in content
    assert f'<iframe class="preview" sandbox src="/operator/outbox/{mail.pk}/html/"' in content

    frame = operator.get(f"{LIST}{mail.pk}/html/")
    policy = frame["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy and "script-src" not in policy
    assert frame.content == b"<p>Bonjour</p><script>alert(1)</script>"  # inert: sandboxed, no script allowed
    assert operator.get(f"{LIST}999999/").status_code == 404


def test_with_a_relay_the_content_is_not_shown(operator, clock, settings):
    mail = queue()
    OutgoingMail.objects.filter(pk=mail.pk).update(html="<p>Bonjour</p>")
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    content = operator.get(f"{LIST}{mail.pk}/").content.decode()
    assert "https://coffre.example/verify/abc" not in content
    assert "its content is not shown" in content
    assert operator.get(f"{LIST}{mail.pk}/html/").status_code == 404


def test_a_sent_and_a_failed_mail_say_so(operator, clock, relay):
    relay(rcpt=["250 OK", "550 5.1.1 User unknown"])
    sent, failed = queue("a"), queue("b", to="gone@example.be")
    services.deliver(sent.pk)
    services.deliver(failed.pk)
    content = operator.get(LIST).content.decode()
    assert '<span class="badge ok">Sent</span>' in content
    assert '<span class="badge danger">Failed</span>' in content
    assert "SMTP 550 5.1.1 User unknown" in operator.get(f"{LIST}{failed.pk}/").content.decode()
