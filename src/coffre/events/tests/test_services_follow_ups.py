"""Follow-up events: only the rows due, only for messages still unread and not expired, once."""

import datetime as dt

from coffre.audit.services import Actor
from coffre.events.models import Event, EventType
from coffre.events.services_follow_ups import emit_due_follow_ups
from coffre.mailbox import services
from coffre.mailbox.tests.conftest import A, B, publish

BRUSSELS = dt.timezone(dt.timedelta(hours=1))
MONDAY = dt.datetime(2026, 3, 2, 10, 0, tzinfo=BRUSSELS)


def of_type(event_type) -> list[Event]:
    return list(Event.objects.filter(event_type=event_type).order_by("sequence"))


def test_the_reminder_of_an_unread_message_is_written_on_its_day_once(portal, clock):
    clock.move_to(MONDAY)
    message = publish(A, registered_mail=True)
    assert emit_due_follow_ups(dt.date(2026, 3, 16)).reminders == 0
    clock.move_to(dt.datetime(2026, 3, 17, 2, 0, tzinfo=BRUSSELS))
    assert emit_due_follow_ups(dt.date(2026, 3, 17)).reminders == 1
    assert emit_due_follow_ups(dt.date(2026, 3, 17)).reminders == 0  # idempotent
    (reminder,) = of_type(EventType.REMINDER)
    new = Event.objects.get(event_type=EventType.NEW_DOCUMENT)
    assert (reminder.message_id, reminder.enterprise_id, reminder.provider_id) == (message.message_id, portal.a.pk, "coffre")
    assert (reminder.receipt_date, reminder.expiration_date) == (message.receipt_date, message.expiration_date)
    assert reminder.registered_mail and reminder.subject == message.subject
    assert reminder.event_time == clock.now() and reminder.sequence > new.sequence
    assert new.reminder_due is None and new.alert_due is not None


def test_read_expired_or_missing_messages_only_clear_their_due_dates(portal, clock):
    clock.move_to(MONDAY)
    read = publish(A)
    services.consult(read, Actor(kind="web", name="alice"), "open", main_content=True, details={})
    expired = publish(A, expiration_date=MONDAY + dt.timedelta(days=3))
    gone = publish(B)
    Event.objects.filter(message_id=read.message_id).update(reminder_due=dt.date(2026, 3, 17))  # a stale date
    gone.attachments.all().delete()
    gone.delete()
    clock.move_to(MONDAY + dt.timedelta(days=20))
    emitted = emit_due_follow_ups(dt.date(2026, 3, 22))
    assert (emitted.reminders, emitted.alerts) == (0, 0)
    assert emitted.dropped == 3  # read, expired (its alert), gone (reminder)
    assert not Event.objects.filter(event_type__in=[EventType.REMINDER, EventType.EXPIRATION_ALERT]).exists()
    assert Event.objects.get(message_id=expired.message_id).alert_due is None


def test_rows_not_due_are_not_touched_and_batches_cover_all(portal, clock):
    clock.move_to(MONDAY)
    for _ in range(5):
        publish(A)
    clock.move_to(MONDAY + dt.timedelta(days=1))
    later = publish(B)
    clock.move_to(dt.datetime(2026, 3, 17, 2, 0, tzinfo=BRUSSELS))
    assert emit_due_follow_ups(dt.date(2026, 3, 17), batch=2).reminders == 5
    assert Event.objects.get(message_id=later.message_id, event_type=EventType.NEW_DOCUMENT).reminder_due == dt.date(2026, 3, 18)


def test_the_alert_is_written_7_days_before_expiry(portal, clock):
    clock.move_to(MONDAY)
    publish(A, expiration_date=dt.datetime(2026, 4, 20, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))))
    clock.move_to(dt.datetime(2026, 4, 12, 2, 0, tzinfo=BRUSSELS))
    emitted = emit_due_follow_ups(dt.date(2026, 4, 12))
    assert (emitted.reminders, emitted.alerts) == (1, 0)  # the reminder was due on 17 March
    clock.move_to(dt.datetime(2026, 4, 13, 2, 0, tzinfo=BRUSSELS))
    emitted = emit_due_follow_ups(dt.date(2026, 4, 13))
    assert (emitted.reminders, emitted.alerts) == (0, 1)
    assert len(of_type(EventType.EXPIRATION_ALERT)) == 1
