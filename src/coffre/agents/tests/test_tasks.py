"""The agents' tasks: the periodic round claims the due connections (each agent within its limit)
and hands each claim to a worker task; a sync asked for at once claims by itself."""

import datetime as dt

from django_tasks_db.models import DBTaskResult

from coffre.agents import tasks
from coffre.agents.models import Connection, Status
from coffre.agents.tests.conftest import add, run_enqueued


def test_the_periodic_round_hands_the_due_connections_to_the_workers(portal, shelf, clock):
    shelf.add(1)
    connections = [add(portal, label=str(n)) for n in range(3)]  # ShelfAgent.max_concurrent == 2
    assert tasks.sync_due_connections.call() == 2
    waiting = list(DBTaskResult.objects.filter(task_path="coffre.agents.tasks.sync_claimed"))
    assert len(waiting) == 2
    claimed = {row.args_kwargs["args"][0]: row.args_kwargs["args"][1] for row in waiting}
    for pk, token in claimed.items():
        assert Connection.objects.get(pk=pk).claimed_by == token
    assert tasks.sync_due_connections.call() == 0  # no room until they ran
    assert run_enqueued() == [Status.OK, Status.OK]
    # the first that ended handed its slot to the third at once: nothing is left for the round
    assert tasks.sync_due_connections.call() == 0
    assert run_enqueued() == [Status.OK]
    assert {c.status for c in Connection.objects.filter(pk__in=[c.pk for c in connections])} == {Status.OK}
    clock.shift(dt.timedelta(days=1))
    assert tasks.sync_due_connections.call() == 0  # every 3 days (at each one's own time in the period)
    clock.shift(dt.timedelta(days=4))
    assert tasks.sync_due_connections.call() == 2  # all three due again, two at a time


def test_each_sync_that_ends_hands_its_slot_to_the_agents_next_due_connection(portal, shelf):
    """Without it an agent ran at most max_concurrent syncs per round of the scheduler (a minute):
    10,000 connections due together took days (docs/benchmarks.md, agents)."""
    shelf.add(1)
    connections = [add(portal, label=str(n)) for n in range(5)]  # ShelfAgent.max_concurrent == 2
    assert tasks.sync_due_connections.call() == 2  # one round only
    statuses = []
    while ran := run_enqueued("coffre.agents.tasks.sync_claimed"):
        statuses += ran
        assert Connection.objects.exclude(claimed_by="").count() <= 2  # never more than its limit
    assert statuses == [Status.OK] * 5
    ours = Connection.objects.filter(pk__in=[c.pk for c in connections])
    assert set(ours.values_list("status", flat=True)) == {Status.OK}
    assert Connection.objects.exclude(claimed_by="").count() == 0


def test_a_sync_that_ends_hands_on_nothing_when_nothing_is_due(portal, shelf, clock):
    first, second = add(portal), add(portal)
    Connection.objects.filter(pk=second.pk).update(next_run_at=clock.now() + dt.timedelta(hours=1))
    assert tasks.sync_connection.call(first.pk, "first") == Status.OK
    assert run_enqueued("coffre.agents.tasks.sync_claimed") == []
    assert Connection.objects.get(pk=second.pk).claimed_by == ""


def test_a_sync_asked_for_runs_only_a_connection_that_does_not_wait_for_the_person(portal, shelf):
    connection = add(portal, password="wrong")
    assert tasks.sync_connection.call(connection.pk, "first") == Status.LOGIN_FAILED
    assert tasks.sync_connection.call(connection.pk, "sync-now") == "busy"
    assert tasks.sync_connection.call(connection.pk + 1000) == "missing"
