"""Instant alerts (seed 004): one content-free e-mail per person for the arrivals in the e-Boxes
they read, exactly once, never for an e-Box they cannot read."""

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from coffre.accounts.models import Membership
from coffre.audit.services import Actor
from coffre.events.models import Event
from coffre.mailbox.tests.conftest import A, B, ONSS, publish
from coffre.notifications import services_alerts
from coffre.notifications.models import AlertCursor, AlertSubscription, InstantAlert
from coffre.notifications.tests.conftest import PHRASE, brussels
from coffre.outbox.models import OutgoingMail

SUBJECT = {"fr": "Avis de saisie sur salaire", "nl": "Bericht van loonbeslag"}


def follow(world, name: str, *enterprises):
    services_alerts.set_instant_alerts(world.people[name], list(enterprises), Actor(kind="web", name=name))


def alerts() -> list[OutgoingMail]:
    return list(OutgoingMail.objects.filter(purpose="instant_alert").order_by("id"))


def test_an_arrival_alerts_the_followers_who_read_that_ebox(world, clock):
    follow(world, "bob", world.a)
    follow(world, "carl", world.a)  # the firm's collaborator, A in its portfolio
    follow(world, "charlie", world.b)
    clock.move_to(brussels("2026-03-02 10:00"))
    message = publish(A, subject=SUBJECT)
    assert services_alerts.process_instant_alerts() == 2
    bob_mail, carl_mail = sorted(alerts(), key=lambda mail: mail.to_address)
    first = Event.objects.get(message_id=message.message_id).sequence
    assert bob_mail.to_address == "bob@example.be"
    assert bob_mail.key == f"alert:{world.people['bob'].pk}:{first}"
    assert carl_mail.to_address == "carl@fidu.example"
    assert bob_mail.ebox is None  # a person's own address, not a notification address
    everything = "\n".join([bob_mail.subject, bob_mail.text, bob_mail.html])
    for secret in [*SUBJECT.values(), "ONSS", ONSS, "ATTEST", "attestation.pdf"]:
        assert secret not in everything
    assert f"Alice & Co ({A}): 1 new document" in bob_mail.text
    assert PHRASE in bob_mail.text
    alert = InstantAlert.objects.get(mail=bob_mail)
    assert "-".join(alert.code[i:i + 4] for i in range(0, 16, 4)) in bob_mail.text
    assert "/genuine/" in bob_mail.text and "/accounts/settings/" in bob_mail.text


def test_a_member_of_another_enterprise_gets_nothing(world, clock):
    """Tenancy: charlie (member of B) follows B; a document for A tells him nothing, even with a
    subscription to A written behind the form's back."""
    follow(world, "charlie", world.b)
    AlertSubscription.objects.create(user=world.people["charlie"], enterprise=world.a)
    publish(A)
    assert services_alerts.process_instant_alerts() == 0
    assert alerts() == []
    publish(B)
    assert services_alerts.process_instant_alerts() == 1
    (mail,) = alerts()
    assert mail.to_address == "charlie@example.be"
    assert A not in mail.text


def test_the_service_refuses_an_ebox_the_person_cannot_read(world):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        follow(world, "charlie", world.a)
    assert not AlertSubscription.objects.exists()


def test_a_person_who_lost_access_gets_no_more_alerts(world):
    follow(world, "bob", world.a)
    Membership.objects.filter(user=world.people["bob"], enterprise=world.a).delete()
    publish(A)
    assert services_alerts.process_instant_alerts() == 0


def test_arrivals_of_one_batch_share_one_mail_per_person(world):
    follow(world, "alice", world.a)
    for _ in range(3):
        publish(A)
    assert services_alerts.process_instant_alerts() == 1
    (mail,) = alerts()
    assert "3 new documents" in mail.subject and "Alice & Co" in mail.text
    assert InstantAlert.objects.get().documents == 3


def test_each_arrival_is_told_once(world):
    follow(world, "alice", world.a)
    publish(A)
    assert services_alerts.process_instant_alerts() == 1
    assert services_alerts.process_instant_alerts() == 0
    publish(A)
    assert services_alerts.process_instant_alerts() == 1
    assert len(alerts()) == 2 and len({mail.key for mail in alerts()}) == 2


def test_a_crash_rolls_the_step_back_and_the_catch_up_sends_it(world, monkeypatch):
    follow(world, "alice", world.a)
    follow(world, "bob", world.a)
    publish(A)
    before = AlertCursor.objects.get().sequence
    real = services_alerts.queue_mail
    calls = []

    def crashing(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the worker dies")
        return real(**kwargs)

    monkeypatch.setattr(services_alerts, "queue_mail", crashing)
    with pytest.raises(RuntimeError):
        services_alerts.process_instant_alerts()
    assert alerts() == [] and AlertCursor.objects.get().sequence == before
    monkeypatch.undo()
    assert services_alerts.process_instant_alerts() == 2
    assert sorted(mail.to_address for mail in alerts()) == ["alice@example.be", "bob@example.be"]


def test_arrivals_before_the_first_subscription_are_not_news(world):
    publish(A)
    follow(world, "alice", world.a)
    assert services_alerts.process_instant_alerts() == 0


def test_an_arrival_already_read_is_not_told(world):
    from coffre.mailbox import services as mailbox

    follow(world, "alice", world.a)
    message = publish(A)
    mailbox.consult(message, Actor(kind="web", name="bob"), "openDocument", main_content=True, details={})
    assert services_alerts.process_instant_alerts() == 0


def test_small_steps_cover_every_arrival(world):
    follow(world, "alice", world.a)
    follow(world, "charlie", world.b)
    for recipient in (A, B, A, B):
        publish(recipient)
    assert services_alerts.process_instant_alerts(step=1) == 4


@pytest.mark.django_db(transaction=True)
def test_a_publication_wakes_the_alert_task_after_commit_when_someone_follows(world, settings):
    settings.COFFRE_INSTANT_ALERT_DELAY = 30
    publish(B)  # nobody follows B: nothing enqueued
    assert not DBTaskResult.objects.filter(task_path__endswith="send_instant_alerts").exists()
    follow(world, "alice", world.a)
    publish(A)
    publish(A)  # within the delay: the task already enqueued covers it
    (task,) = DBTaskResult.objects.filter(task_path="coffre.notifications.tasks.send_instant_alerts")
    assert task.run_after is not None


def test_a_failing_wake_up_does_not_fail_the_publication(world, monkeypatch, django_capture_on_commit_callbacks):
    def broken(enterprise_ids):
        raise RuntimeError("the task queue is down")

    monkeypatch.setattr(services_alerts, "wake", broken)
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            message = publish(A)
    assert message.pk is not None
