"""The nightly digest, rule by rule, on a controlled clock (issue 5, point 8).

Monday 2 March 2026 is the publication day of most tests; the digest of a night is the one of
02:00 Brussels time.
"""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from coffre.audit.services import Actor
from coffre.events.models import Event, EventType
from coffre.mailbox import services as mailbox
from coffre.mailbox.models import Ebox
from coffre.mailbox.tests.conftest import A, B, ONSS, publish
from coffre.notifications import services
from coffre.notifications.models import Digest, DigestRun
from coffre.notifications.tests.conftest import A_ADDRESS, B_ADDRESS, PHRASE, brussels, digests, night

MONDAY_10 = "2026-03-02 10:00"
SUBJECT = {"fr": "Mise en demeure pour cotisations impayées", "nl": "Ingebrekestelling wegens onbetaalde bijdragen"}


def read(message, when=None):
    mailbox.consult(message, Actor(kind="web", name="alice@example.be"), "openDocument", main_content=True, details={})


def counts_of(mail) -> tuple[int, int, int]:
    digest = Digest.objects.get(mail=mail)
    return digest.new_documents, digest.reminders, digest.expiring


def test_published_monday_morning_is_in_the_digest_of_tuesday_2am(world, clock):
    clock.move_to(brussels(MONDAY_10))
    publish(A)
    publish(B)
    report = night(clock, "2026-03-03 02:00")
    assert report.night == dt.date(2026, 3, 3)
    mail_a, mail_b = sorted(digests(), key=lambda mail: mail.to_address != A_ADDRESS)
    assert (mail_a.key, mail_a.to_address, mail_a.ebox.enterprise.cbe) == (f"digest:{A}:2026-03-03", A_ADDRESS, A)
    assert (mail_b.key, mail_b.to_address) == (f"digest:{B}:2026-03-03", B_ADDRESS)
    assert counts_of(mail_a) == (1, 0, 0)
    assert "1 new document" in mail_a.text
    assert mail_a.subject == "e-Box of Alice & Co: documents are waiting for you"


def test_the_next_night_sends_nothing_more_for_the_same_document(world, clock):
    clock.move_to(brussels(MONDAY_10))
    publish(A)
    night(clock, "2026-03-03 02:00")
    assert night(clock, "2026-03-04 02:00").digests == 0
    assert len(digests()) == 1


def test_read_monday_23h_no_digest(world, clock):
    clock.move_to(brussels(MONDAY_10))
    message = publish(A)
    publish(B)
    clock.move_to(brussels("2026-03-02 23:00"))
    read(message)
    night(clock, "2026-03-03 02:00")
    assert [mail.to_address for mail in digests()] == [B_ADDRESS]


def test_only_the_messages_still_unread_are_counted(world, clock):
    clock.move_to(brussels(MONDAY_10))
    first, _second, _third = publish(A), publish(A), publish(A)
    read(first)
    night(clock, "2026-03-03 02:00")
    (mail,) = digests()
    assert counts_of(mail) == (2, 0, 0)
    assert "2 new documents" in mail.text


def test_a_read_by_another_provider_makes_its_message_read(world, clock):
    """Events submitted by other document providers count as well, and their readDocument too."""
    clock.move_to(brussels(MONDAY_10))
    facts = {"enterprise": world.a, "receipt_date": clock.now(), "expiration_date": clock.now() + dt.timedelta(days=90),
             "provider_id": "other-provider"}
    Event.objects.create(event_type=EventType.NEW_DOCUMENT, message_id="other-1", **facts)
    Event.objects.create(event_type=EventType.NEW_DOCUMENT, message_id="other-2", **facts)
    # A read of "other-1" in another enterprise, or by a third provider, does not read it here.
    Event.objects.create(event_type=EventType.READ_DOCUMENT, message_id="other-1",
                         **{**facts, "enterprise": world.b})
    Event.objects.create(event_type=EventType.READ_DOCUMENT, message_id="other-1",
                         **{**facts, "provider_id": "third"})
    clock.move_to(brussels("2026-03-02 18:00"))
    Event.objects.create(event_type=EventType.READ_DOCUMENT, message_id="other-2", **facts)
    night(clock, "2026-03-03 02:00")
    (mail,) = digests()
    assert counts_of(mail) == (1, 0, 0)


def test_a_read_after_the_window_counts_when_the_mail_is_built(world, clock):
    """A message read between the run's opening and its digest is left out."""
    clock.move_to(brussels(MONDAY_10))
    message = publish(A)
    clock.move_to(brussels("2026-03-03 02:00"))
    run = services.open_run(dt.date(2026, 3, 3), clock.now())
    read(message)  # an event after the window's end
    assert run.to_sequence < Event.objects.latest("sequence").sequence
    assert services.run_nightly().digests == 0


def test_reminder_on_day_15(world, clock):
    clock.move_to(brussels(MONDAY_10))
    publish(A)
    night(clock, "2026-03-03 02:00")
    night(clock, "2026-03-16 02:00")
    assert len(digests()) == 1
    report = night(clock, "2026-03-17 02:00")
    assert report.follow_ups.reminders == 1
    reminder = digests()[-1]
    assert reminder.key == f"digest:{A}:2026-03-17"
    assert counts_of(reminder) == (0, 1, 0)
    assert "1 document still unread after 15 days" in reminder.text
    (event,) = Event.objects.filter(event_type=EventType.REMINDER)
    assert event.event_time == brussels("2026-03-17 02:00")


def test_no_reminder_for_a_message_read_before_day_15(world, clock):
    clock.move_to(brussels(MONDAY_10))
    message = publish(A)
    night(clock, "2026-03-03 02:00")
    clock.move_to(brussels("2026-03-10 09:00"))
    read(message)
    report = night(clock, "2026-03-17 02:00")
    assert report.follow_ups.reminders == 0
    assert len(digests()) == 1
    assert not Event.objects.filter(event_type=EventType.REMINDER).exists()


def test_expiry_alert_7_days_before(world, clock):
    clock.move_to(brussels(MONDAY_10))
    publish(A, expiration_date=brussels("2026-04-20 10:00"))
    night(clock, "2026-03-03 02:00")
    night(clock, "2026-03-17 02:00")  # the reminder's night
    night(clock, "2026-04-12 02:00")
    assert len(digests()) == 2
    report = night(clock, "2026-04-13 02:00")
    assert report.follow_ups.alerts == 1
    alert = digests()[-1]
    assert counts_of(alert) == (0, 0, 1)
    assert "1 unread document expires within 7 days" in alert.text
    assert brussels("2026-04-20 10:00") - brussels("2026-04-13 02:00") > dt.timedelta(days=7)


def test_a_short_validity_is_alerted_the_night_after_publication(world, clock):
    clock.move_to(brussels(MONDAY_10))
    publish(A, expiration_date=brussels("2026-03-05 10:00"))
    night(clock, "2026-03-03 02:00")
    (mail,) = digests()
    assert counts_of(mail) == (1, 0, 1)


def test_nothing_after_expiry(world, clock):
    night(clock, "2026-03-02 01:00")  # a first night: the watermark is set
    clock.move_to(brussels(MONDAY_10))
    publish(A, expiration_date=brussels("2026-03-05 10:00"))
    # No night ran before the message expired (the scheduler was down).
    report = night(clock, "2026-03-06 02:00")
    assert (report.follow_ups.alerts, report.digests) == (0, 0)
    assert digests() == []
    assert not Event.objects.filter(event_type=EventType.EXPIRATION_ALERT).exists()
    assert Event.objects.get(event_type=EventType.NEW_DOCUMENT).alert_due is None


def test_the_mail_is_content_free_and_carries_link_phrase_and_code(world, clock):
    clock.move_to(brussels(MONDAY_10))
    publish(A, subject=SUBJECT)
    night(clock, "2026-03-03 02:00")
    (mail,) = digests()
    digest = Digest.objects.get(mail=mail)
    everything = "\n".join([mail.subject, mail.text, mail.html, str(mail.headers)])
    for secret in [*SUBJECT.values(), "ONSS", "RSZ", "sécurité sociale", ONSS, "ATTEST", "Attestation", "attestation.pdf"]:
        assert secret not in everything
    assert PHRASE in mail.text and PHRASE in mail.html
    assert f"http://127.0.0.1:8000/e/{A}/" in mail.text
    assert "http://127.0.0.1:8000/genuine/" in mail.text
    shown = "-".join(digest.code[index:index + 4] for index in range(0, 16, 4))
    assert shown in mail.text and shown in mail.html
    assert mail.headers["X-Coffre-Reference"] == shown
    assert "<html" in mail.html and "1 new document" in mail.html


def test_the_mail_is_in_the_enterprise_language(world, clock, settings):
    settings.COFFRE_BASE_URL = "https://coffre.example.be"
    clock.move_to(brussels(MONDAY_10))
    publish(B)
    night(clock, "2026-03-03 02:00")
    (mail,) = digests()
    assert '<html lang="nl">' in mail.html
    assert "1 nieuw document" in mail.text and mail.subject == "e-Box van Charlie SRL: er wachten documenten op u"
    assert f"https://coffre.example.be/e/{B}/" in mail.text


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"notification_email": ""}, "no address"),
        ({"notification_status": "pending"}, "never confirmed"),
        ({"notification_status": "failing"}, "deliveries failing"),
    ],
)
def test_no_digest_without_a_usable_address(world, clock, change, why):
    Ebox.objects.filter(enterprise=world.a).update(**change)
    clock.move_to(brussels(MONDAY_10))
    publish(A)
    publish(B)
    night(clock, "2026-03-03 02:00")
    assert [mail.to_address for mail in digests()] == [B_ADDRESS], why


def test_no_digest_for_an_enterprise_no_longer_active(world, clock):
    clock.move_to(brussels(MONDAY_10))
    publish(A)
    world.a.active = False
    world.a.save(update_fields=["active"])
    night(clock, "2026-03-03 02:00")
    assert digests() == []


def test_nothing_is_sent_when_there_is_nothing_to_say(world, clock):
    assert night(clock, "2026-03-03 02:00").digests == 0
    assert digests() == []
    assert DigestRun.objects.get(night=dt.date(2026, 3, 3)).finished_at is not None


def test_the_first_run_covers_the_previous_day_only(world, clock):
    clock.move_to(brussels("2026-03-01 23:30"))  # Sunday: before the previous day of Tuesday's night
    publish(A)
    clock.move_to(brussels("2026-03-02 00:10"))  # Monday
    publish(B)
    night(clock, "2026-03-03 02:00")
    assert [mail.to_address for mail in digests()] == [B_ADDRESS]


def test_missed_nights_are_caught_up_once(world, clock):
    night(clock, "2026-03-02 02:00")
    clock.move_to(brussels(MONDAY_10))
    publish(A)
    clock.move_to(brussels("2026-03-04 15:00"))
    publish(A)
    report = night(clock, "2026-03-05 02:00")
    assert report.digests == 1
    (mail,) = digests()
    assert counts_of(mail) == (2, 0, 0)


def test_the_run_reads_events_not_messages_nor_enterprises(world, clock):
    """O(events): every statement of the digest part reads events by sequence or by enterprise id
    list; messages are read only by the ids of the follow-ups due, enterprises by id list."""
    clock.move_to(brussels(MONDAY_10))
    publish(A, expiration_date=brussels("2026-03-05 10:00"))
    clock.move_to(brussels("2026-03-03 02:00"))
    with CaptureQueriesContext(connection) as queries:
        services.run_nightly()
    assert digests()
    statements = [query["sql"] for query in queries.captured_queries]
    for sql in statements:
        if '"mailbox_message"' in sql and sql.startswith("SELECT"):
            assert '"message_id" IN (' in sql, sql
        if 'FROM "accounts_enterprise"' in sql or 'JOIN "accounts_enterprise"' in sql:
            assert '"enterprise_id" IN (' in sql or '"accounts_enterprise"."id" IN (' in sql, sql
        if 'FROM "events_event"' in sql and "MAX(" not in sql and "MIN(" not in sql:
            assert '"sequence"' in sql or '"reminder_due" <=' in sql or '"alert_due" <=' in sql, sql
