"""The periodic tasks declared in settings.COFFRE_PERIODIC_TASKS, and when each is due.

An entry is ``name -> {"task": "dotted.path.to.task", "every": seconds}`` or
``name -> {"task": ..., "cron": "0 2 * * *", "timezone": "Europe/Brussels"}`` (the timezone
defaults to settings.TIME_ZONE). The task is a django-tasks ``Task`` (a function decorated with
``@task``), enqueued without arguments.

This module only reads settings and computes times: it never touches the database.
"""

import datetime
import math
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string
from django_tasks.base import Task


@dataclass(frozen=True)
class Every:
    """Every N seconds, keeping the phase of the first run (no drift)."""

    seconds: float

    def describe(self) -> str:
        return f"every {self.seconds:g}s"

    def first_run(self, now: datetime.datetime) -> datetime.datetime:
        return now  # a new entry runs at once

    def next_after(self, due: datetime.datetime, now: datetime.datetime) -> datetime.datetime:
        """The first time ``due + k * every`` (k >= 1) later than ``now``: missed runs collapse."""
        step = datetime.timedelta(seconds=self.seconds)
        periods = max(1, math.floor((now - due) / step) + 1)
        return due + periods * step


@dataclass(frozen=True)
class Cron:
    """A cron expression (minute hour day month weekday) read in a time zone."""

    expression: str
    timezone: str

    def describe(self) -> str:
        return f"cron {self.expression} {self.timezone}"

    def _following(self, moment: datetime.datetime) -> datetime.datetime:
        local = moment.astimezone(ZoneInfo(self.timezone))
        return croniter(self.expression, local).get_next(datetime.datetime)

    def first_run(self, now: datetime.datetime) -> datetime.datetime:
        return self._following(now).astimezone(datetime.UTC)

    def next_after(self, due: datetime.datetime, now: datetime.datetime) -> datetime.datetime:
        """The first cron time later than ``now``: missed runs collapse into the one just made.

        When clocks go back, croniter yields the repeated wall-clock time twice (02:00 CEST, then
        02:00 CET); the second is skipped so that a daily job runs once that night.
        """
        zone = ZoneInfo(self.timezone)
        candidate = self._following(max(due, now))
        if candidate.replace(tzinfo=None) == due.astimezone(zone).replace(tzinfo=None):
            candidate = self._following(candidate)
        return candidate.astimezone(datetime.UTC)


Schedule = Every | Cron


@dataclass(frozen=True)
class PeriodicEntry:
    name: str
    task_path: str
    schedule: Schedule

    def load_task(self) -> Task:
        try:
            task = import_string(self.task_path)
        except ImportError as exc:
            raise ImproperlyConfigured(
                f"COFFRE_PERIODIC_TASKS[{self.name!r}]: cannot import {self.task_path!r}: {exc}"
            ) from None
        if not isinstance(task, Task):
            raise ImproperlyConfigured(
                f"COFFRE_PERIODIC_TASKS[{self.name!r}]: {self.task_path!r} is not a task "
                "(decorate it with @task)"
            )
        return task


def parse_entry(name: str, spec) -> PeriodicEntry:
    where = f"COFFRE_PERIODIC_TASKS[{name!r}]"
    if not isinstance(name, str) or not name or len(name) > 100:
        raise ImproperlyConfigured(f"{where}: the name must be a non-empty string of at most 100 characters")
    if not isinstance(spec, dict):
        raise ImproperlyConfigured(f"{where}: expected a dict with 'task' and 'every' or 'cron'")
    unknown = set(spec) - {"task", "every", "cron", "timezone"}
    if unknown:
        raise ImproperlyConfigured(f"{where}: unknown keys {sorted(unknown)}")
    task_path = spec.get("task")
    if not isinstance(task_path, str) or "." not in task_path:
        raise ImproperlyConfigured(f"{where}: 'task' must be the dotted path of a task")
    if ("every" in spec) == ("cron" in spec):
        raise ImproperlyConfigured(f"{where}: give exactly one of 'every' (seconds) and 'cron'")
    if "every" in spec:
        every = spec["every"]
        if isinstance(every, datetime.timedelta):
            every = every.total_seconds()
        if (
            isinstance(every, bool)
            or not isinstance(every, int | float)
            or not every > 0
            or math.isinf(every)
        ):
            raise ImproperlyConfigured(f"{where}: 'every' must be a positive number of seconds")
        if "timezone" in spec:
            raise ImproperlyConfigured(f"{where}: 'timezone' goes with 'cron' only")
        return PeriodicEntry(name, task_path, Every(float(every)))
    expression = spec["cron"]
    if not isinstance(expression, str) or len(expression.split()) != 5 or not croniter.is_valid(expression):
        raise ImproperlyConfigured(
            f"{where}: 'cron' must be a cron expression of five fields, got {expression!r}"
        )
    timezone = spec.get("timezone", settings.TIME_ZONE)
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ImproperlyConfigured(f"{where}: unknown timezone {timezone!r}") from None
    return PeriodicEntry(name, task_path, Cron(expression, timezone))


def configured_entries(config: dict | None = None) -> list[PeriodicEntry]:
    """Every entry of ``config`` (default: settings.COFFRE_PERIODIC_TASKS), validated."""
    if config is None:
        config = settings.COFFRE_PERIODIC_TASKS
    if not isinstance(config, dict):
        raise ImproperlyConfigured("COFFRE_PERIODIC_TASKS must be a dict: name -> schedule")
    return [parse_entry(name, spec) for name, spec in config.items()]
