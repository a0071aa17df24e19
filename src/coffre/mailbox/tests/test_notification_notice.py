"""A failing notification address: marked by the outbox, shown on e-Box management, and told to
the access managers on every portal page until an address is confirmed again."""

import pytest

from coffre.audit.services import Actor
from coffre.mailbox import services_management as management
from coffre.mailbox.models import Ebox
from coffre.mailbox.tests.conftest import A

OLD = "boss@alice.example"
NOTICE = "E-mails to the notification address of Alice &amp; Co are refused"
ACTOR = Actor.system("outbox.deliver")


@pytest.fixture
def failing(portal) -> Ebox:
    Ebox.objects.filter(pk=portal.ebox_a.pk).update(notification_email=OLD, notification_status="verified")
    assert management.mark_notification_address_failing(
        portal.ebox_a.pk, OLD, "SMTP 550 5.1.1 <boss@alice.example>: User unknown", actor=ACTOR
    )
    return portal.ebox_a


def test_only_the_current_address_is_marked_and_only_once(portal, failing):
    assert failing.notification_status == "failing"
    assert failing.notification_failure == "SMTP 550 5.1.1 <boss@alice.example>: User unknown"
    assert not management.mark_notification_address_failing(failing.pk, OLD, "again", actor=ACTOR)
    assert not management.mark_notification_address_failing(portal.ebox_b.pk, OLD, "not B's", actor=ACTOR)
    assert Ebox.objects.get(pk=failing.pk).notification_failure.endswith("User unknown")
    assert portal.ebox_b.notification_status != "failing"


@pytest.mark.parametrize(
    "who, told", [("alice", True), ("bob", False), ("ann", False), ("carl", False), ("charlie", False)]
)
def test_the_access_managers_are_told_on_their_pages(portal, failing, who, told):
    client = portal.client(who)
    for page in ("/", f"/e/{A}/" if who != "charlie" else "/accounts/settings/"):
        content = client.get(page, follow=True).content.decode()
        assert (NOTICE in content) is told
        link = f'<a href="/e/{A}/management/">Check the address in e-Box management</a>'
        assert (link in content) is told


def test_the_management_page_says_why(portal, failing):
    content = portal.client("alice").get(f"/e/{A}/management/").content.decode()
    assert "Deliveries failing" in content
    assert "SMTP 550 5.1.1 &lt;boss@alice.example&gt;: User unknown" in content


def test_the_notice_goes_once_an_address_is_confirmed(
    portal, failing, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        management.request_address_change(
            failing, "team@alice.example", requested_by="alice@example.be", actor=ACTOR, language="en",
            link_for=lambda token: f"https://coffre.example/confirm/{token}/",
        )
    token = mailoutbox[-1].body.split("https://coffre.example/confirm/", 1)[1].split("/", 1)[0]
    management.confirm_address(token, A, actor=ACTOR)
    assert NOTICE not in portal.client("alice").get("/", follow=True).content.decode()
