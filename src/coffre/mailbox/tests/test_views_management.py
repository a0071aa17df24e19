"""The e-Box management page and the confirmation link (coffre.mailbox.views_management)."""

import datetime as dt
import html
import re

import pytest

from coffre.accounts.models import Membership, Role
from coffre.audit.models import AuditRecord
from coffre.mailbox.models import Ebox
from coffre.mailbox.tests.conftest import A, person, sign_in

PAGE = f"/e/{A}/management/"
OLD = "boss@alice.example"


@pytest.fixture
def ebox(portal) -> Ebox:
    Ebox.objects.filter(pk=portal.ebox_a.pk).update(notification_email=OLD, notification_status="verified")
    return portal.ebox_a


def confirmation_path(mail) -> str:
    return re.search(r"https?://[^/\s]+(/e/\S+/management/confirm/[^/\s]+/)", mail.body).group(1)


def change_to(client, email: str, captured):
    with captured(execute=True):
        return client.post(f"{PAGE}address/", {"email": email})


# --- who may manage -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "who, status",
    [("alice", 200), ("bob", 403), ("ann", 403), ("carl", 403), ("charlie", 404), ("anonymous", 302)],
)
def test_the_page_is_for_access_managers(portal, ebox, who, status):
    response = portal.client(who).get(PAGE)
    assert response.status_code == status
    if status == 200:
        assert OLD in response.content.decode()


@pytest.mark.parametrize("role", [Role.PRINCIPAL, Role.CO_PRINCIPAL, Role.MANAGER, Role.CO_MANAGER])
def test_every_access_manager_role_may_manage(portal, ebox, role):
    manager = person(f"{role}@example.be")
    Membership.objects.create(user=manager, enterprise=portal.a, role=role)
    assert sign_in(manager).get(PAGE).status_code == 200


@pytest.mark.parametrize(
    "who, status", [("bob", 403), ("ann", 403), ("carl", 403), ("charlie", 404), ("anonymous", 302)]
)
@pytest.mark.parametrize(
    "action, data",
    [
        ("address/", {"email": "evil@example.net"}),
        ("address/resend/", {}),
        ("address/cancel/", {}),
        ("phrase/", {"phrase": "Pwned phrase"}),
        ("phrase/", {"remove": "1"}),
    ],
)
def test_nobody_else_changes_anything(
    portal, ebox, mailoutbox, django_capture_on_commit_callbacks, who, status, action, data
):
    Ebox.objects.filter(pk=ebox.pk).update(
        pending_email="team@alice.example", anti_phishing_phrase="Blue heron"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = portal.client(who).post(PAGE + action, data)
    assert response.status_code == status
    ebox.refresh_from_db()
    assert (ebox.notification_email, ebox.pending_email, ebox.anti_phishing_phrase) == (
        OLD,
        "team@alice.example",
        "Blue heron",
    )
    assert mailoutbox == []


def test_a_made_up_confirmation_link_shows_nothing(portal, ebox):
    # The confirmation page answers everyone, but only with what a valid token names.
    response = portal.client("charlie").get(f"{PAGE}confirm/nonsense/")
    assert response.status_code == 400 and OLD not in response.content.decode()


# --- changing the address -------------------------------------------------------------------------


def test_changing_the_address_mails_a_link_and_keeps_the_old_address(
    portal, ebox, mailoutbox, django_capture_on_commit_callbacks
):
    alice = portal.client("alice")
    response = change_to(alice, "team@alice.example", django_capture_on_commit_callbacks)
    assert response.status_code == 302 and response["Location"] == PAGE
    assert [mail.to for mail in mailoutbox] == [["team@alice.example"]]

    page = alice.get(PAGE).content.decode()
    assert "A confirmation link was sent to team@alice.example." in page
    assert (
        "Waiting for confirmation" in page and "Send the link again" in page and "Cancel the change" in page
    )
    ebox.refresh_from_db()
    assert ebox.notification_email == OLD


def test_the_confirmation_link_asks_then_confirms_once(
    portal, ebox, mailoutbox, django_capture_on_commit_callbacks
):
    change_to(portal.client("alice"), "team@alice.example", django_capture_on_commit_callbacks)
    path = confirmation_path(mailoutbox[0])
    stranger = portal.client("anonymous")  # a group address is read by people without an account

    shown = stranger.get(path)
    assert shown.status_code == 200 and "team@alice.example" in shown.content.decode()
    assert shown["Referrer-Policy"] == "no-referrer"
    ebox.refresh_from_db()
    assert ebox.notification_email == OLD  # opening the link (or a mail scanner) changes nothing

    done = stranger.post(path)
    assert done.status_code == 200 and "now receives the notifications" in done.content.decode()
    ebox.refresh_from_db()
    assert (ebox.notification_email, ebox.notification_status) == ("team@alice.example", "verified")

    again = stranger.post(path)
    assert again.status_code == 400 and "not valid" in again.content.decode()
    token = path.rstrip("/").rsplit("/", 1)[1]
    assert not AuditRecord.objects.filter(url__contains=token).exists()
    assert AuditRecord.objects.filter(action="ebox.notificationAddress.confirm", actor="anonymous").exists()


def test_an_expired_link_says_so(portal, ebox, mailoutbox, django_capture_on_commit_callbacks, clock):
    change_to(portal.client("alice"), "team@alice.example", django_capture_on_commit_callbacks)
    clock.shift(dt.timedelta(days=8))
    response = portal.client("anonymous").post(confirmation_path(mailoutbox[0]))
    assert response.status_code == 400 and "expired" in response.content.decode()
    ebox.refresh_from_db()
    assert ebox.notification_email == OLD
    page = portal.client("alice").get(PAGE).content.decode()
    assert "has expired: send it again, or cancel the change" in page


def test_resend_and_cancel(portal, ebox, mailoutbox, django_capture_on_commit_callbacks):
    alice = portal.client("alice")
    change_to(alice, "team@alice.example", django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        assert alice.post(f"{PAGE}address/resend/").status_code == 302
    assert len(mailoutbox) == 2
    assert portal.client("anonymous").get(confirmation_path(mailoutbox[0])).status_code == 400

    assert alice.post(f"{PAGE}address/cancel/").status_code == 302
    page = alice.get(PAGE).content.decode()
    assert "Waiting for confirmation" not in page
    assert portal.client("anonymous").post(confirmation_path(mailoutbox[1])).status_code == 400


def test_a_wrong_address_is_explained_next_to_the_field(
    portal, ebox, mailoutbox, django_capture_on_commit_callbacks
):
    alice = portal.client("alice")
    alice.cookies["django_language"] = "en"
    response = change_to(alice, "not an address", django_capture_on_commit_callbacks)
    assert response.status_code == 200
    assert (
        'id="email-errors"' in response.content.decode()
        and "Enter a valid email address." in response.content.decode()
    )
    response = change_to(alice, OLD, django_capture_on_commit_callbacks)
    assert "This is already the confirmed notification address." in response.content.decode()
    assert mailoutbox == []


def test_too_many_links_are_refused(portal, ebox, mailoutbox, django_capture_on_commit_callbacks):
    alice = portal.client("alice")
    for index in range(5):
        change_to(alice, f"team{index}@alice.example", django_capture_on_commit_callbacks)
    response = change_to(alice, "team9@alice.example", django_capture_on_commit_callbacks)
    assert "Too many confirmation e-mails" in response.content.decode()
    assert len(mailoutbox) == 5


# --- what the page shows --------------------------------------------------------------------------


def test_failing_deliveries_are_shown_with_their_error(portal, ebox):
    Ebox.objects.filter(pk=ebox.pk).update(
        notification_status="failing", notification_failure="550 5.1.1 unknown"
    )
    page = portal.client("alice").get(PAGE).content.decode()
    assert "Deliveries failing" in page and "550 5.1.1 unknown" in page


def test_a_group_address_is_suggested_to_several_managers(portal, ebox):
    assert "group e-mail address" not in portal.client("alice").get(PAGE).content.decode()
    Membership.objects.create(user=person("dora@example.be"), enterprise=portal.a, role=Role.CO_PRINCIPAL)
    assert "group e-mail address" in portal.client("alice").get(PAGE).content.decode()


def test_the_phrase_is_explained_set_and_removed(portal, ebox):
    alice = portal.client("alice")
    page = alice.get(PAGE).content.decode()
    assert "Every notification e-mail" in page and "No phrase yet." in page

    assert alice.post(f"{PAGE}phrase/", {"phrase": "Blue heron at dawn"}).status_code == 302
    assert "Blue heron at dawn" in alice.get(PAGE).content.decode()
    assert alice.post(f"{PAGE}phrase/", {"remove": "1"}).status_code == 302
    ebox.refresh_from_db()
    assert ebox.anti_phishing_phrase == ""


@pytest.mark.parametrize(
    "phrase, error",
    [
        ("abc", "at least 4 characters"),
        ("<b>heron</b>", "may not contain &lt; or &gt;"),
        ("x" * 61, "at most 60"),
    ],
)
def test_a_bad_phrase_is_explained_next_to_the_field(portal, ebox, phrase, error):
    alice = portal.client("alice")
    alice.cookies["django_language"] = "en"
    response = alice.post(f"{PAGE}phrase/", {"phrase": phrase})
    page = response.content.decode()
    assert response.status_code == 200 and 'id="phrase-errors"' in page
    assert error in page or error in html.unescape(page)
    ebox.refresh_from_db()
    assert ebox.anti_phishing_phrase == ""
