"""``coffre scheduler``: enqueue the periodic tasks of settings.COFFRE_PERIODIC_TASKS when due.

Runs until SIGINT/SIGTERM (started by ``coffre run``); ``--once`` enqueues what is due now and
exits. Several schedulers may run at once: each run is enqueued by exactly one of them
(coffre.scheduler.services). Between runs it sleeps until the next due time, at most
``--max-sleep`` seconds, so that a changed or deleted state row is noticed.
"""

import logging
import signal
import threading

from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections
from django.utils import timezone

from coffre.scheduler import services
from coffre.scheduler.schedules import configured_entries

logger = logging.getLogger("coffre.scheduler")


class Command(BaseCommand):
    help = "Enqueue the periodic tasks when they are due (settings.COFFRE_PERIODIC_TASKS)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="enqueue what is due now, then exit")
        parser.add_argument(
            "--max-sleep",
            type=float,
            default=30.0,
            help="longest sleep between two looks at the schedule (seconds, default 30)",
        )

    def handle(self, *args, once: bool, max_sleep: float, verbosity: int, **options):
        entries = configured_entries()
        for entry in entries:
            entry.load_task()
        if once:
            for run in self._tick(entries):
                if verbosity >= 1:
                    next_run = run.next_run_at.isoformat()
                    self.stdout.write(f"{run.name}: enqueued {run.result_id}, next run at {next_run}")
            return

        stop = threading.Event()

        def request_stop(signum, frame):
            logger.info("scheduler: %s received, stopping", signal.Signals(signum).name)
            stop.set()

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        names = ", ".join(f"{entry.name} ({entry.schedule.describe()})" for entry in entries) or "none"
        logger.info("scheduler: started; periodic tasks: %s", names)
        failures = 0
        while not stop.is_set():
            close_old_connections()
            try:
                self._tick(entries)
                next_due = services.next_due_at(entries)
            except DatabaseError as exc:
                # The database restarted or stayed locked: try again later rather than die.
                failures += 1
                delay = min(max_sleep, 2.0 ** min(failures, 6))
                logger.warning(
                    "scheduler: database error (%s); retrying in %.0fs", exc.__class__.__name__, delay
                )
                close_old_connections()
                stop.wait(delay)
                continue
            failures = 0
            delay = max_sleep
            if next_due is not None:
                delay = min(max_sleep, max(0.05, (next_due - timezone.now()).total_seconds()))
            stop.wait(delay)
        logger.info("scheduler: stopped")

    def _tick(self, entries) -> list[services.Enqueued]:
        now = timezone.now()
        services.sync_states(entries, now)
        return services.run_due(entries, now)
