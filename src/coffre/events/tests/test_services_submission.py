"""Events submitted by other providers (coffre.events.services_submission): all or none,
idempotent per provider, never with follow-ups, safe when two submissions race."""

import datetime as dt
import threading
from dataclasses import replace

import pytest
from django.db import connections

from coffre.audit.models import AuditRecord
from coffre.audit.services import Actor
from coffre.events.models import Event
from coffre.events.services_submission import (
    CorrelationConflict,
    SubmittedEvent,
    UnknownEnterprise,
    submit_events,
)
from coffre.mailbox.tests.conftest import A, B, publish

PROVIDER = "coffre-provider2"
ACTOR = Actor(
    kind="api", name=PROVIDER, method="POST", url="/events-api/1.0.0/ebox/enterprise/document/events"
)
RECEIPT = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def submitted(correlation_id="corr-1", **changes) -> SubmittedEvent:
    base = SubmittedEvent(
        event_type="newDocument",
        correlation_id=correlation_id,
        enterprise_cbe=A,
        message_id="dp2-1",
        receipt_date=RECEIPT,
        expiration_date=RECEIPT + dt.timedelta(days=365),
        registered_mail=False,
        message_type_id="TAXNOTICE",
        subject={"fr": "Avertissement"},
    )
    return replace(base, **changes)


def test_new_events_are_stored_with_the_provider_and_no_follow_ups(portal):
    done = submit_events(PROVIDER, [submitted("c-1"), submitted("c-2", enterprise_cbe=B)], ACTOR)
    assert [event.correlation_id for event in done.created] == ["c-1", "c-2"]
    rows = list(Event.objects.order_by("sequence"))
    assert [(row.provider_id, row.enterprise.cbe) for row in rows] == [(PROVIDER, A), (PROVIDER, B)]
    assert all(row.reminder_due is None and row.alert_due is None for row in rows)
    entry = AuditRecord.objects.latest("seq")
    assert (entry.action, entry.actor, entry.status) == ("submitEboxEnterpriseDocumentEvents", PROVIDER, 201)


def test_submitted_events_come_after_earlier_ones(portal):
    message = publish(A)
    submit_events(PROVIDER, [submitted()], ACTOR)
    own, theirs = Event.objects.order_by("sequence")
    assert (own.message_id, theirs.message_id) == (message.message_id, "dp2-1")


def test_an_unknown_enterprise_stores_nothing(portal):
    with pytest.raises(UnknownEnterprise) as refused:
        submit_events(PROVIDER, [submitted("c-1"), submitted("c-2", enterprise_cbe="0999999999")], ACTOR)
    assert refused.value.index == 1
    assert not Event.objects.exists()


def test_a_conflict_stores_nothing_and_names_every_id(portal):
    submit_events(PROVIDER, [submitted("c-1"), submitted("c-2")], ACTOR)
    records = AuditRecord.objects.count()
    with pytest.raises(CorrelationConflict) as conflict:
        submit_events(
            PROVIDER,
            [
                submitted("c-3"),
                submitted("c-2", registered_mail=True),
                submitted("c-1", subject={"fr": "Autre"}),
            ],
            ACTOR,
        )
    assert conflict.value.correlation_ids == ["c-1", "c-2"]
    assert sorted(Event.objects.values_list("correlation_id", flat=True)) == ["c-1", "c-2"]
    assert AuditRecord.objects.count() == records  # the caller audits the refusal


def test_the_same_instant_in_another_zone_is_the_same_content(portal):
    submit_events(PROVIDER, [submitted()], ACTOR)
    brussels = RECEIPT.astimezone(dt.timezone(dt.timedelta(hours=1)))
    done = submit_events(PROVIDER, [submitted(receipt_date=brussels)], ACTOR)
    assert (done.created, done.already_stored) == ([], ["corr-1"])


@pytest.mark.django_db(transaction=True)
def test_racing_replays_store_the_event_once(portal):
    """Two deliveries of one submission at the same moment (a provider retrying too early): one
    stores, the other finds it stored; neither fails on the unique constraint."""
    barrier = threading.Barrier(2)
    results, errors = [], []

    def deliver():
        try:
            barrier.wait(30)
            results.append(submit_events(PROVIDER, [submitted("c-1"), submitted("c-2")], ACTOR))
        except Exception as exc:  # reported below: the test fails on any
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted((len(done.created), len(done.already_stored)) for done in results) == [(0, 2), (2, 0)]
    assert Event.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_racing_conflicting_submissions_store_one_of_them(portal):
    barrier = threading.Barrier(2)
    outcomes = []

    def deliver(subject):
        try:
            barrier.wait(30)
            submit_events(PROVIDER, [submitted("c-1", subject=subject)], ACTOR)
            outcomes.append("stored")
        except CorrelationConflict:
            outcomes.append("conflict")
        except Exception as exc:  # the test fails on any other outcome
            outcomes.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver, args=({"fr": text},)) for text in ("Un", "Deux")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "stored"]
    assert Event.objects.count() == 1
