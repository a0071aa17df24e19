"""coffre.scheduler.services: due entries are enqueued once, by one scheduler, on time."""

import datetime
import threading

import pytest
from django.db import connections, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from coffre.scheduler import services
from coffre.scheduler.models import PeriodicTaskState
from coffre.scheduler.schedules import configured_entries

UTC = datetime.UTC
TICK = "coffre.scheduler.tests.tasks.tick"
TOCK = "coffre.scheduler.tests.tasks.tock"


def enqueued(task_path: str = TICK) -> int:
    return DBTaskResult.objects.filter(task_path=task_path).count()


def tick(entries) -> list[services.Enqueued]:
    """One look at the schedule, as the scheduler makes it."""
    now = timezone.now()
    services.sync_states(entries, now)
    return services.run_due(entries, now)


def state(name: str) -> PeriodicTaskState:
    return PeriodicTaskState.objects.get(name=name)


@pytest.mark.django_db
def test_an_interval_task_runs_at_once_then_every_period(clock):
    entries = configured_entries({"tick": {"task": TICK, "every": 60}})
    start = clock.now()

    assert [run.name for run in tick(entries)] == ["tick"]
    assert enqueued() == 1
    assert state("tick").last_enqueued_at == start
    assert state("tick").next_run_at == start + datetime.timedelta(seconds=60)

    clock.shift(59)
    assert tick(entries) == []
    assert enqueued() == 1

    clock.shift(1)
    assert [run.name for run in tick(entries)] == ["tick"]
    assert enqueued() == 2
    assert state("tick").next_run_at == start + datetime.timedelta(seconds=120)


@pytest.mark.django_db
def test_runs_missed_while_down_are_made_once(clock):
    entries = configured_entries({"tick": {"task": TICK, "every": 60}})
    start = clock.now()
    tick(entries)

    clock.shift(datetime.timedelta(minutes=10, seconds=30))  # ten runs missed
    assert len(tick(entries)) == 1
    assert enqueued() == 2
    assert state("tick").next_run_at == start + datetime.timedelta(minutes=11)
    assert tick(entries) == []


@pytest.mark.django_db
def test_a_cron_task_waits_for_its_time_in_its_zone(clock):
    entries = configured_entries(
        {"nightly": {"task": TICK, "cron": "0 2 * * *", "timezone": "Europe/Brussels"}}
    )
    clock.move_to("2026-01-15T09:00:00+00:00")

    assert tick(entries) == []
    assert state("nightly").next_run_at == datetime.datetime(2026, 1, 16, 1, 0, tzinfo=UTC)

    clock.move_to("2026-01-16T00:59:59+00:00")
    assert tick(entries) == []
    clock.move_to("2026-01-16T01:00:00+00:00")  # 02:00 in Brussels
    assert len(tick(entries)) == 1
    assert state("nightly").next_run_at == datetime.datetime(2026, 1, 17, 1, 0, tzinfo=UTC)

    clock.move_to("2026-01-19T08:00:00+00:00")  # three nights missed
    assert len(tick(entries)) == 1
    assert enqueued() == 2
    assert state("nightly").next_run_at == datetime.datetime(2026, 1, 20, 1, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_each_entry_keeps_its_own_schedule(clock):
    entries = configured_entries({"fast": {"task": TICK, "every": 10}, "slow": {"task": TOCK, "every": 3600}})
    assert {run.name for run in tick(entries)} == {"fast", "slow"}
    clock.shift(10)
    assert [run.name for run in tick(entries)] == ["fast"]
    assert (enqueued(TICK), enqueued(TOCK)) == (2, 1)
    assert services.next_due_at(entries) == clock.now() + datetime.timedelta(seconds=10)


@pytest.mark.django_db
def test_a_changed_schedule_starts_afresh(clock):
    tick(configured_entries({"report": {"task": TICK, "every": 3600}}))
    clock.shift(60)
    changed = configured_entries({"report": {"task": TICK, "cron": "0 2 * * *", "timezone": "UTC"}})
    assert tick(changed) == []
    assert state("report").schedule == "cron 0 2 * * * UTC"
    assert state("report").next_run_at == datetime.datetime(2026, 1, 16, 2, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_a_deleted_state_is_created_again(clock):
    entries = configured_entries({"tick": {"task": TICK, "every": 3600}})
    tick(entries)
    PeriodicTaskState.objects.all().delete()
    assert len(tick(entries)) == 1
    assert enqueued() == 2


@pytest.mark.django_db(transaction=True)
def test_a_run_claimed_by_another_scheduler_is_not_enqueued_again(clock):
    """Another scheduler holds the row (PostgreSQL: row lock; SQLite: write lock) while it claims
    the run; this one must not enqueue it, neither while the other holds it nor after."""
    entries = configured_entries({"tick": {"task": TICK, "every": 60}})
    services.sync_states(entries, clock.now())
    locked, done = threading.Event(), threading.Event()

    def other_scheduler():
        try:
            with transaction.atomic():
                row = PeriodicTaskState.objects.select_for_update().get(name="tick")
                row.next_run_at = clock.now() + datetime.timedelta(seconds=60)
                row.save()
                locked.set()
                done.wait(0.5)  # hold the lock a moment while this scheduler looks
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_scheduler)
    thread.start()
    assert locked.wait(30)
    assert services.run_due(entries, clock.now()) == []
    done.set()
    thread.join()
    assert enqueued() == 0
    assert services.run_due(entries, clock.now()) == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_schedulers_enqueue_each_run_once(clock):
    entries = configured_entries({"tick": {"task": TICK, "every": 60}, "tock": {"task": TOCK, "every": 60}})
    services.sync_states(entries, clock.now())
    barrier = threading.Barrier(4)
    results: list[list[services.Enqueued]] = []

    def scheduler():
        try:
            barrier.wait(30)
            results.append(services.run_due(entries, timezone.now()))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=scheduler) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4
    assert sorted(run.name for batch in results for run in batch) == ["tick", "tock"]
    assert (enqueued(TICK), enqueued(TOCK)) == (1, 1)
