"""``coffre scheduler`` and the system check of COFFRE_PERIODIC_TASKS."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from coffre.scheduler.models import PeriodicTaskState

TICK = "coffre.scheduler.tests.tasks.tick"


@pytest.mark.django_db
def test_scheduler_once_enqueues_what_is_due_and_exits(clock):
    out = io.StringIO()
    with override_settings(COFFRE_PERIODIC_TASKS={"tick": {"task": TICK, "every": 300}}):
        call_command("scheduler", "--once", stdout=out)
        assert DBTaskResult.objects.filter(task_path=TICK).count() == 1
        assert out.getvalue().startswith("tick: enqueued ")
        assert "next run at 2026-01-15T09:05:00+00:00" in out.getvalue()

        clock.shift(299)
        call_command("scheduler", "--once", stdout=io.StringIO())
        assert DBTaskResult.objects.filter(task_path=TICK).count() == 1
        clock.shift(1)
        call_command("scheduler", "--once", stdout=io.StringIO())
        assert DBTaskResult.objects.filter(task_path=TICK).count() == 2
    assert PeriodicTaskState.objects.get(name="tick").last_enqueued_at == clock.now()


@pytest.mark.django_db
def test_scheduler_with_nothing_configured_does_nothing(clock, settings):
    settings.COFFRE_PERIODIC_TASKS = {}
    call_command("scheduler", "--once", stdout=io.StringIO())
    assert PeriodicTaskState.objects.count() == 0
    assert DBTaskResult.objects.count() == 0


@pytest.mark.parametrize(
    "config, message",
    [
        ({"tick": {"task": TICK, "every": -1}}, "positive number"),
        ({"tick": {"task": "coffre.scheduler.tests.tasks.not_a_task", "every": 60}}, "is not a task"),
        ({"tick": {"task": "coffre.nowhere.task", "every": 60}}, "cannot import"),
    ],
)
def test_a_bad_schedule_stops_the_start_up_checks(config, message):
    with override_settings(COFFRE_PERIODIC_TASKS=config):
        with pytest.raises(SystemCheckError, match=message) as error:
            call_command("check")
    assert "scheduler.E001" in str(error.value)


def test_the_check_passes_with_good_schedules():
    with override_settings(COFFRE_PERIODIC_TASKS={"tick": {"task": TICK, "cron": "*/5 * * * *"}}):
        call_command("check", stdout=io.StringIO())
