"""coffre.scheduler.schedules: parsing COFFRE_PERIODIC_TASKS and computing due times."""

import datetime

import pytest
from django.core.exceptions import ImproperlyConfigured

from coffre.scheduler.schedules import Cron, Every, configured_entries, parse_entry

UTC = datetime.UTC
TASK = "coffre.scheduler.tests.tasks.tick"


def at(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).astimezone(UTC)


def test_every_keeps_its_phase_and_collapses_missed_runs():
    every = Every(60)
    due = at("2026-01-15T09:00:00+00:00")
    assert every.next_after(due, due) == at("2026-01-15T09:01:00+00:00")
    assert every.next_after(due, at("2026-01-15T09:00:59+00:00")) == at("2026-01-15T09:01:00+00:00")
    # Down for ten minutes and a half: one run now, the next on the original minute grid.
    assert every.next_after(due, at("2026-01-15T09:10:30+00:00")) == at("2026-01-15T09:11:00+00:00")
    assert every.next_after(due, at("2026-01-15T09:11:00+00:00")) == at("2026-01-15T09:12:00+00:00")


def test_cron_reads_the_expression_in_its_time_zone():
    nightly = Cron("0 2 * * *", "Europe/Brussels")
    assert nightly.first_run(at("2026-01-15T09:00:00+00:00")) == at("2026-01-16T01:00:00+00:00")  # CET
    assert nightly.first_run(at("2026-07-15T09:00:00+00:00")) == at("2026-07-16T00:00:00+00:00")  # CEST
    assert nightly.first_run(at("2026-01-15T09:00:00+00:00")).tzinfo == UTC


def test_cron_collapses_missed_runs_into_one():
    nightly = Cron("0 2 * * *", "Europe/Brussels")
    due = at("2026-01-16T01:00:00+00:00")
    back_after_three_days = at("2026-01-19T10:00:00+00:00")
    assert nightly.next_after(due, back_after_three_days) == at("2026-01-20T01:00:00+00:00")


def test_a_daily_cron_runs_once_in_the_night_the_clocks_go_back():
    nightly = Cron("0 2 * * *", "Europe/Brussels")
    first = at("2026-10-25T02:00:00+02:00")  # 02:00 CEST, then 03:00 CEST becomes 02:00 CET
    assert nightly.next_after(first, first) == at("2026-10-26T02:00:00+01:00")


def test_a_daily_cron_runs_once_in_the_night_the_clocks_go_forward():
    nightly = Cron("0 2 * * *", "Europe/Brussels")  # 02:00 does not exist on 29 March 2026
    due = nightly.first_run(at("2026-03-28T12:00:00+01:00"))
    assert due == at("2026-03-29T03:00:00+02:00")
    assert nightly.next_after(due, due) == at("2026-03-30T02:00:00+02:00")


def test_a_quarter_hourly_cron_runs_in_both_passes_of_the_repeated_hour():
    quarterly = Cron("*/15 * * * *", "Europe/Brussels")
    due = at("2026-10-25T02:45:00+02:00")
    assert quarterly.next_after(due, due) == at("2026-10-25T02:00:00+01:00")


def test_configured_entries_parse_both_kinds():
    entries = configured_entries(
        {
            "cleanup": {"task": TASK, "every": 300},
            "digest": {"task": TASK, "cron": "30 6 * * 1-5", "timezone": "Europe/Brussels"},
            "report": {"task": TASK, "cron": "0 1 1 * *"},
            "often": {"task": TASK, "every": datetime.timedelta(minutes=1)},
        }
    )
    assert [entry.name for entry in entries] == ["cleanup", "digest", "report", "often"]
    assert entries[0].schedule == Every(300)
    assert entries[1].schedule == Cron("30 6 * * 1-5", "Europe/Brussels")
    assert entries[2].schedule == Cron("0 1 1 * *", "Europe/Brussels")  # settings.TIME_ZONE
    assert entries[3].schedule == Every(60)
    assert entries[0].load_task().name == "tick"


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"task": TASK}, "exactly one of"),
        ({"task": TASK, "every": 60, "cron": "* * * * *"}, "exactly one of"),
        ({"task": TASK, "every": 0}, "positive number"),
        ({"task": TASK, "every": "60"}, "positive number"),
        ({"task": TASK, "every": True}, "positive number"),
        ({"task": TASK, "every": 60, "timezone": "UTC"}, "'timezone' goes with 'cron'"),
        ({"task": TASK, "cron": "61 * * * *"}, "cron expression"),
        ({"task": TASK, "cron": "* * * * * *"}, "cron expression"),
        ({"task": TASK, "cron": "0 2 * * *", "timezone": "Mars/Olympus"}, "unknown timezone"),
        ({"task": "tick", "every": 60}, "dotted path"),
        ({"task": TASK, "every": 60, "priority": 3}, "unknown keys"),
        ("every minute", "expected a dict"),
    ],
)
def test_bad_entries_are_refused_with_their_name(spec, message):
    with pytest.raises(ImproperlyConfigured, match=message) as error:
        parse_entry("nightly", spec)
    assert "COFFRE_PERIODIC_TASKS['nightly']" in str(error.value)


def test_an_entry_must_name_a_task_object():
    missing = parse_entry("gone", {"task": "coffre.scheduler.tests.tasks.missing", "every": 60})
    with pytest.raises(ImproperlyConfigured, match="cannot import"):
        missing.load_task()
    plain = parse_entry("plain", {"task": "coffre.scheduler.tests.tasks.not_a_task", "every": 60})
    with pytest.raises(ImproperlyConfigured, match="is not a task"):
        plain.load_task()
