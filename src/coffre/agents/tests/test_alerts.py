"""Agents and the notifications (issue 7 point 6): a document an agent brings into an enterprise's
box is an arrival for the instant alerts and the nightly digest (and a read one is no longer
counted); the person who added an agent hears of each change to an error status, once, in their
language, content-free."""

import datetime as dt

from coffre.accounts.models import Membership
from coffre.agents import engine, services
from coffre.agents.models import Connection, Status
from coffre.agents.sdk import LoginFailed, UnknownAgentError, VendorDown
from coffre.agents.tests.conftest import add, credentials, web
from coffre.agents.tests.fakes import LOGIN, PASSWORD
from coffre.audit.services import Actor
from coffre.events.models import Event, EventType
from coffre.mailbox import services as mailbox
from coffre.mailbox.models import Message, Origin
from coffre.mailbox.services_spaces import personal_box
from coffre.notifications import services_alerts
from coffre.notifications.tests.conftest import A_ADDRESS, brussels, digests, night
from coffre.outbox.models import OutgoingMail

MONDAY_10 = "2026-03-02 10:00"


def status_mails() -> list[OutgoingMail]:
    return list(OutgoingMail.objects.filter(purpose="agent_status").order_by("id"))


# --- arrivals --------------------------------------------------------------------------------------


def test_an_agents_documents_are_arrivals_for_the_instant_alerts(world, shelf, clock):
    services_alerts.set_instant_alerts(world.people["bob"], [world.a], Actor(kind="web", name="bob"))
    clock.move_to(brussels(MONDAY_10))
    shelf.add(2)
    engine.sync(add(world).pk)
    events = Event.objects.filter(event_type=EventType.NEW_DOCUMENT)
    assert events.count() == 2 and not events.filter(in_feed=True).exists()
    assert events.filter(reminder_due__isnull=False).count() == 0  # no e-Box reminders for them
    assert services_alerts.process_instant_alerts() == 1
    (mail,) = OutgoingMail.objects.filter(purpose="instant_alert")
    assert mail.to_address == "bob@example.be" and "2 new documents" in mail.subject
    for content in ("Bill", "Shelf", "bill-1"):
        assert content not in mail.subject + mail.text


def test_an_agents_documents_count_in_the_nightly_digest_until_read(world, shelf, clock):
    clock.move_to(brussels(MONDAY_10))
    shelf.add(3)
    engine.sync(add(world).pk)
    first = Message.objects.filter(origin=Origin.AGENT).order_by("id").first()
    mailbox.consult(
        first, Actor(kind="web", name="bob@example.be"), "web.message", main_content=True, details={}
    )
    read = Event.objects.get(event_type=EventType.READ_DOCUMENT)
    assert (read.message_id, read.in_feed) == (first.message_id, False)
    night(clock, "2026-03-03 02:00")
    (mail,) = digests()
    assert mail.to_address == A_ADDRESS and "2 new documents" in mail.text


def test_documents_of_my_documents_write_no_events(world, shelf):
    shelf.add(1)
    engine.sync(add(world, "bob", box=personal_box(world.people["bob"])).pk)
    assert Message.objects.filter(origin=Origin.AGENT).count() == 1 and not Event.objects.exists()


# --- the person who added the agent hears of each change to an error status --------------------------


def test_each_change_to_an_error_status_is_told_once_content_free(world, shelf, clock):
    shelf.add(1)
    connection = add(world, label="Office electricity")
    engine.sync(connection.pk)  # OK: nothing to tell
    assert status_mails() == []
    for error in (VendorDown("503"), VendorDown("503 again"), UnknownAgentError("the page changed")):
        clock.move_to(Connection.objects.get(pk=connection.pk).next_run_at)
        shelf.login_error = error
        engine.sync(connection.pk)
    first, second = status_mails()  # VENDOR_DOWN once, then UNKNOWN_ERROR
    assert first.to_address == "alice@example.be" and first.key != second.key
    assert "Provider's site unavailable" in first.text and "Unexpected error" in second.text
    assert (
        "Shelf test agent" in first.text and "Office electricity" in first.text and "Alice & Co" in first.text
    )
    for mail in (first, second):
        assert "Shelf" not in mail.subject and "Alice" not in mail.subject
        for secret in (PASSWORD, LOGIN, "Bill 1", "503", "the page changed"):
            assert secret not in mail.subject + mail.text + mail.html
    shelf.login_error = None
    clock.move_to(Connection.objects.get(pk=connection.pk).next_run_at)
    engine.sync(connection.pk)  # back to OK: no mail
    shelf.login_error = LoginFailed()
    services.sync_now(world.people["alice"], connection.pk, actor=web("alice"))
    engine.sync(connection.pk)
    assert len(status_mails()) == 3 and "Login failed" in status_mails()[-1].text


def test_the_mail_speaks_the_language_of_the_person_who_added_the_agent(world, shelf):
    alice = world.people["alice"]
    alice.language = "fr"
    alice.save(update_fields=["language"])
    shelf.login_error = LoginFailed()
    engine.sync(add(world).pk)
    (mail,) = status_mails()
    assert mail.text.startswith("Bonjour,")


def test_nobody_is_told_once_the_person_lost_access_to_the_space(world, shelf):
    shelf.login_error = LoginFailed()
    connection = add(world)
    Membership.objects.filter(user=world.people["alice"], enterprise=world.a).delete()
    engine.sync(connection.pk)
    assert Connection.objects.get(pk=connection.pk).status == Status.LOGIN_FAILED
    assert status_mails() == []


def test_the_person_who_replaced_the_credentials_is_not_told_of_a_change_that_did_not_happen(
    world, shelf, clock
):
    shelf.login_error = LoginFailed()
    connection = add(world)
    engine.sync(connection.pk)
    shelf.login_error = None
    services.replace_credentials(world.people["alice"], connection.pk, credentials(), actor=web("alice"))
    clock.shift(dt.timedelta(minutes=1))
    engine.sync(connection.pk)
    assert len(status_mails()) == 1
