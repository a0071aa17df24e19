"""Enqueue the periodic tasks that are due, each run exactly once even with several schedulers.

``run_due`` claims each due entry in its own transaction: ``select_for_update(skip_locked=True)``
on PostgreSQL (a second scheduler skips the row while the first holds it, and re-reads it as not
due once the first commits); on SQLite every write transaction is IMMEDIATE (settings.py), so the
second scheduler waits for the first and then sees the entry no longer due. The task is enqueued
and the next run written in that same transaction: with the database task backend, a run is
either enqueued and recorded, or neither. Runs missed while no scheduler was up are made once,
not once per missed period.
"""

import datetime
import logging
from dataclasses import dataclass

from django.db import transaction

from coffre.scheduler.models import PeriodicTaskState
from coffre.scheduler.schedules import PeriodicEntry

logger = logging.getLogger("coffre.scheduler")


@dataclass(frozen=True)
class Enqueued:
    name: str
    result_id: str
    next_run_at: datetime.datetime


def sync_states(entries: list[PeriodicEntry], now: datetime.datetime) -> None:
    """Create the state of new entries; start afresh those whose schedule changed in settings."""
    existing = {
        state.name: state
        for state in PeriodicTaskState.objects.filter(name__in=[entry.name for entry in entries])
    }
    missing = [
        PeriodicTaskState(
            name=entry.name, schedule=entry.schedule.describe(), next_run_at=entry.schedule.first_run(now)
        )
        for entry in entries
        if entry.name not in existing
    ]
    if missing:
        # Another scheduler may create the same rows at the same time: the first one wins.
        PeriodicTaskState.objects.bulk_create(missing, ignore_conflicts=True)
    for entry in entries:
        state = existing.get(entry.name)
        if state is not None and state.schedule != entry.schedule.describe():
            PeriodicTaskState.objects.filter(pk=state.pk, schedule=state.schedule).update(
                schedule=entry.schedule.describe(), next_run_at=entry.schedule.first_run(now)
            )
            logger.info("periodic task %s: schedule changed to %s", entry.name, entry.schedule.describe())


def run_due(entries: list[PeriodicEntry], now: datetime.datetime) -> list[Enqueued]:
    """Enqueue every entry due at ``now`` that no other scheduler is enqueuing."""
    enqueued = []
    for entry in entries:
        with transaction.atomic():
            state = (
                PeriodicTaskState.objects.select_for_update(skip_locked=True)
                .filter(name=entry.name, next_run_at__lte=now)
                .first()
            )
            if state is None:
                continue
            result = entry.load_task().enqueue()
            state.last_enqueued_at = now
            state.next_run_at = entry.schedule.next_after(state.next_run_at, now)
            state.save(update_fields=["last_enqueued_at", "next_run_at"])
        logger.info(
            "periodic task %s: enqueued %s (%s), next run at %s",
            entry.name,
            entry.task_path,
            result.id,
            state.next_run_at.isoformat(),
        )
        enqueued.append(Enqueued(entry.name, str(result.id), state.next_run_at))
    return enqueued


def next_due_at(entries: list[PeriodicEntry]) -> datetime.datetime | None:
    states = PeriodicTaskState.objects.filter(name__in=[entry.name for entry in entries])
    return min((state.next_run_at for state in states), default=None)
