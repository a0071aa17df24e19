"""Events written with the changes they describe: publication, broadcast, first reading."""

import datetime as dt

import pytest

from coffre.audit.services import Actor
from coffre.events import services as events
from coffre.events.models import Event, EventType
from coffre.mailbox import services
from coffre.mailbox.tests.conftest import ONSS, A, B, publish

BRUSSELS = events.BRUSSELS


def events_of(message_id: str) -> list[Event]:
    return list(Event.objects.filter(message_id=message_id).order_by("sequence"))


def test_publication_writes_new_document_with_the_message_facts(portal):
    message = publish(A, registered_mail=True)
    (event,) = events_of(message.message_id)
    assert event.event_type == EventType.NEW_DOCUMENT
    assert event.enterprise == portal.a
    assert event.provider_id == "coffre"
    assert (event.receipt_date, event.expiration_date) == (message.receipt_date, message.expiration_date)
    assert event.registered_mail is True
    assert (event.message_type_id, event.sender_organization_id) == ("ATTEST", ONSS)
    assert event.subject == message.subject
    assert event.reminder_due == events.brussels_day(message.receipt_date) + dt.timedelta(days=15)
    assert event.alert_due == events.brussels_day(message.expiration_date - dt.timedelta(days=7))


def test_a_refused_publication_writes_no_event(portal):
    with pytest.raises(services.PublicationRefused):
        publish(B, message_type="UNKNOWN")
    assert not Event.objects.exists()


def test_first_reading_writes_read_document_once_and_cancels_the_follow_ups(portal):
    message = publish(A)
    actor = Actor(kind="web", name="alice@example.be")
    assert services.consult(message, actor, "openDocument", main_content=True, details={})
    assert not services.consult(message, actor, "openDocument", main_content=True, details={})
    new, read = events_of(message.message_id)
    assert read.event_type == EventType.READ_DOCUMENT
    assert read.sequence > new.sequence
    new.refresh_from_db()
    assert (new.reminder_due, new.alert_due) == (None, None)


def test_reading_an_attachment_that_is_not_the_main_content_writes_nothing(portal):
    message = publish(A)
    services.consult(message, Actor(kind="web", name="alice@example.be"), "x", main_content=False, details={})
    assert [event.event_type for event in events_of(message.message_id)] == [EventType.NEW_DOCUMENT]


def test_broadcast_writes_new_document_for_each_new_recipient_only(portal):
    message = publish(A)
    publisher = services.Publisher(client_id="test", cbe=ONSS)
    services.link_message(message.message_id, [A, B], publisher, Actor.cli("test"))
    services.link_message(message.message_id, [B], publisher, Actor.cli("test"))
    assert sorted(event.enterprise.cbe for event in events_of(message.message_id)) == [A, B]


@pytest.mark.parametrize(
    ("receipt", "expiration", "reminder", "alert"),
    [
        # Published Monday 2026-03-02 10:00 Brussels, expires in a year.
        ("2026-03-02T10:00+01:00", "2027-03-02T10:00+01:00", "2026-03-17", "2027-02-23"),
        # Published late in the evening UTC = next day in Brussels.
        ("2026-03-02T23:30+00:00", "2027-03-02T10:00+01:00", "2026-03-18", "2027-02-23"),
        # Expires in 10 days: the reminder would come after expiry.
        ("2026-03-02T10:00+01:00", "2026-03-12T10:00+01:00", None, "2026-03-05"),
        # Expires in 3 days: alerted the next night.
        ("2026-03-02T10:00+01:00", "2026-03-05T10:00+01:00", None, "2026-03-02"),
    ],
)
def test_follow_ups_fall_on_brussels_days(receipt, expiration, reminder, alert):
    due = events.follow_ups(dt.datetime.fromisoformat(receipt), dt.datetime.fromisoformat(expiration))
    as_text = {key: value.isoformat() if value else None for key, value in due.items()}
    assert as_text == {"reminder_due": reminder, "alert_due": alert}
