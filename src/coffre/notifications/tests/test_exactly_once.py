"""Exactly once: a digest run that crashes half way and is restarted sends the other half only and
forgets nobody; the next night starts where the finished run ended."""

import datetime as dt

import pytest
from django.core import mail as django_mail

from coffre.accounts.services import register_enterprise
from coffre.core.cbe import make_cbe
from coffre.events.models import Event
from coffre.mailbox.models import Ebox
from coffre.mailbox.tests.conftest import ACTOR, publish
from coffre.notifications import services
from coffre.notifications.models import Digest, DigestRun
from coffre.notifications.tests.conftest import brussels, digests, night
from coffre.outbox import services as outbox
from coffre.outbox.models import OutgoingMail

TUESDAY = dt.date(2026, 3, 3)


class Crash(Exception):
    """The process dies here."""


@pytest.fixture
def six_enterprises(world, clock):
    """Six enterprises with a confirmed address, each with a document published on Monday."""
    addresses = {}
    for number in range(6):
        cbe = make_cbe(5_000_000 + number)
        enterprise = register_enterprise(cbe, f"Enterprise {number}", ACTOR).enterprise
        addresses[cbe] = f"office{number}@enterprise{number}.be"
        Ebox.objects.filter(enterprise=enterprise).update(
            notification_email=addresses[cbe], notification_status="verified"
        )
    clock.move_to(brussels("2026-03-02 10:00"))
    for cbe in addresses:
        publish(cbe)
    return addresses


def crash_after(monkeypatch, calls: int):
    """Make the hand-off of digests to the outbox (``queue_mail``) kill the run at call ``calls + 1``."""
    real = services.queue_mail
    made = []

    def queue_mail(**kwargs):
        if len(made) == calls:
            raise Crash()
        made.append(kwargs["key"])
        return real(**kwargs)

    monkeypatch.setattr(services, "queue_mail", queue_mail)
    return made


def delivered() -> list[str]:
    for mail in OutgoingMail.objects.all():
        outbox.deliver(mail.pk)
    return sorted(address for message in django_mail.outbox for address in message.to)


@pytest.mark.parametrize("batch", [1, 2, 4])
def test_a_crash_after_half_of_the_mails_then_a_restart_sends_the_other_half_only(
    six_enterprises, clock, monkeypatch, mailoutbox, batch
):
    crash_after(monkeypatch, 3)
    with pytest.raises(Crash):
        night(clock, "2026-03-03 02:00", batch=batch)
    # Whole batches are recorded, the one of the crash is rolled back with its mails.
    recorded = len(digests())
    assert recorded == 3 - 3 % batch
    assert Digest.objects.count() == recorded
    run = DigestRun.objects.get(night=TUESDAY)
    assert run.finished_at is None
    monkeypatch.undo()

    clock.move_to(brussels("2026-03-03 02:07"))
    report = services.run_nightly(batch=batch)
    assert report.digests == 6 - recorded
    assert sorted(mail.to_address for mail in digests()) == sorted(six_enterprises.values())
    assert len({mail.key for mail in digests()}) == 6
    assert delivered() == sorted(six_enterprises.values())  # each address exactly once
    run.refresh_from_db()
    assert run.finished_at is not None and run.digests == 6


@pytest.mark.django_db(transaction=True)  # the hand-off runs after a real commit
def test_a_crash_after_the_commit_of_a_mail_leaves_it_to_the_outbox(six_enterprises, clock, monkeypatch):
    """The hand-off after commit dies: that mail is recorded and queued (the outbox delivers it);
    the restart queues the enterprises after it only."""
    handed = []

    def start_delivery(mail_pk):
        if len(handed) == 3:
            raise Crash()
        handed.append(mail_pk)

    monkeypatch.setattr(outbox, "_start_delivery", start_delivery)
    with pytest.raises(Crash):
        night(clock, "2026-03-03 02:00", batch=1)
    assert len(digests()) == 4  # the fourth is recorded: its hand-off came after the commit
    monkeypatch.undo()
    monkeypatch.setattr(outbox, "_start_delivery", lambda mail_pk: handed.append(mail_pk))
    assert services.run_nightly(batch=1).digests == 2
    assert len(digests()) == 6 and len({mail.key for mail in digests()}) == 6
    assert len(handed) == 5  # the sixth (the crash's) waits for the outbox's retry, still queued
    assert OutgoingMail.objects.exclude(pk__in=handed).get().status == "queued"


def test_a_killed_worker_run_is_taken_again_once_its_lease_expired(six_enterprises, clock, monkeypatch):
    crash_after(monkeypatch, 2)
    with pytest.raises(Crash):
        night(clock, "2026-03-03 02:00", batch=1)
    monkeypatch.undo()
    # A killed process keeps its lease: nobody takes the run before it expires.
    DigestRun.objects.filter(night=TUESDAY).update(locked_until=clock.now() + services.LEASE)
    clock.move_to(brussels("2026-03-03 02:05"))
    assert services.resume_unfinished() == 0
    assert services.run_nightly().digests == 0
    clock.move_to(brussels("2026-03-03 02:11"))
    assert services.resume_unfinished() == 4
    assert len(digests()) == 6


def test_a_run_left_unfinished_is_finished_the_next_night_before_its_own(six_enterprises, clock, monkeypatch):
    crash_after(monkeypatch, 2)
    with pytest.raises(Crash):
        night(clock, "2026-03-03 02:00", batch=1)
    monkeypatch.undo()
    clock.move_to(brussels("2026-03-03 11:00"))
    publish(next(iter(six_enterprises)))
    report = night(clock, "2026-03-04 02:00", batch=1)
    assert report.runs == [TUESDAY, dt.date(2026, 3, 4)]
    keys = [mail.key for mail in digests()]
    assert len([key for key in keys if key.endswith(":2026-03-03")]) == 6
    assert len([key for key in keys if key.endswith(":2026-03-04")]) == 1


def test_the_watermark_moves_once_every_digest_is_recorded(six_enterprises, clock, monkeypatch):
    crash_after(monkeypatch, 1)
    with pytest.raises(Crash):
        night(clock, "2026-03-03 02:00", batch=1)
    monkeypatch.undo()
    run = DigestRun.objects.get(night=TUESDAY)
    assert run.finished_at is None
    services.run_nightly()
    run.refresh_from_db()
    assert run.finished_at is not None
    last = Event.objects.latest("sequence").sequence
    assert run.to_sequence == last
    # Wednesday's run starts after Tuesday's last event.
    night(clock, "2026-03-04 02:00")
    assert DigestRun.objects.get(night=dt.date(2026, 3, 4)).from_sequence == last


def test_running_the_same_night_twice_sends_nothing_twice(six_enterprises, clock):
    night(clock, "2026-03-03 02:00")
    assert night(clock, "2026-03-03 02:30").digests == 0
    assert len(digests()) == 6
    assert DigestRun.objects.count() == 1


def test_the_slices_of_the_window_serve_each_enterprise_once(six_enterprises, clock):
    """With slices of one event, an enterprise with several events is served in one slice only."""
    clock.move_to(brussels("2026-03-02 11:00"))
    for cbe in list(six_enterprises)[:3]:
        publish(cbe)
    night(clock, "2026-03-03 02:00", slice_size=1, batch=1)
    assert len(digests()) == 6
    assert sorted(Digest.objects.values_list("new_documents", flat=True)) == [1, 1, 1, 2, 2, 2]
