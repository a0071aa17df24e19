"""The nightly digest as the scheduler runs it: at 02:00 Brussels time, once a night, DST nights
included; the catch-up task; the schedule configurable by environment."""

import datetime as dt
import json
import os
import subprocess
import sys

from django_tasks_db.models import DBTaskResult

from coffre.mailbox.tests.conftest import A, publish
from coffre.notifications import tasks
from coffre.notifications.tests.conftest import brussels, digests
from coffre.scheduler import services as scheduler
from coffre.scheduler.schedules import configured_entries

DIGEST_TASK = "coffre.notifications.tasks.nightly_digest"


def tick(clock, when: dt.datetime) -> bool:
    """The scheduler looks at ``when``; True when it enqueued the nightly digest (then run it)."""
    clock.move_to(when)
    entries = configured_entries()
    scheduler.sync_states(entries, clock.now())
    names = [run.name for run in scheduler.run_due(entries, clock.now())]
    if "nightly-digest" not in names:
        return False
    tasks.nightly_digest.call()
    return True


def test_published_monday_10h_digest_at_tuesday_2h_by_the_scheduler(world, clock):
    clock.move_to(brussels("2026-03-02 10:00"))
    publish(A)
    assert not tick(clock, brussels("2026-03-02 10:00"))
    assert not tick(clock, brussels("2026-03-03 01:59"))
    assert digests() == []
    assert tick(clock, brussels("2026-03-03 02:00"))
    assert [mail.key for mail in digests()] == [f"digest:{A}:2026-03-03"]
    assert not tick(clock, brussels("2026-03-03 02:01"))
    assert DBTaskResult.objects.filter(task_path=DIGEST_TASK).count() == 1


def test_spring_forward_night_runs_once_at_3h_summer_time(world, clock):
    """On 29 March 2026 Brussels clocks jump from 02:00 to 03:00: 02:00 never exists that night;
    the digest runs at the first moment after it, once, for the night of the 29th."""
    clock.move_to(brussels("2026-03-28 10:00"))
    publish(A)
    assert not tick(clock, brussels("2026-03-28 10:00"))
    assert not tick(clock, dt.datetime(2026, 3, 29, 0, 59, tzinfo=dt.UTC))  # 01:59 CET
    assert tick(clock, dt.datetime(2026, 3, 29, 1, 0, tzinfo=dt.UTC))  # 03:00 CEST
    assert not tick(clock, dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC))
    assert not tick(clock, dt.datetime(2026, 3, 29, 23, 59, tzinfo=dt.UTC))
    assert [mail.key for mail in digests()] == [f"digest:{A}:2026-03-29"]
    assert tick(clock, dt.datetime(2026, 3, 30, 0, 0, tzinfo=dt.UTC))  # 02:00 CEST the next night


def test_fall_back_night_runs_once(world, clock):
    """On 25 October 2026 02:00 comes twice (CEST, then CET): one run only."""
    clock.move_to(brussels("2026-10-24 10:00"))
    publish(A)
    assert not tick(clock, brussels("2026-10-24 10:00"))
    assert tick(clock, dt.datetime(2026, 10, 25, 0, 0, tzinfo=dt.UTC))  # 02:00 CEST
    clock.move_to(dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC))
    publish(A)
    assert not tick(clock, dt.datetime(2026, 10, 25, 1, 0, tzinfo=dt.UTC))  # 02:00 CET
    assert [mail.key for mail in digests()] == [f"digest:{A}:2026-10-25"]
    assert tick(clock, dt.datetime(2026, 10, 26, 1, 0, tzinfo=dt.UTC))  # 02:00 CET the next night
    assert [mail.key for mail in digests()][-1] == f"digest:{A}:2026-10-26"


def test_the_catch_up_task_resumes_a_left_run_and_sends_pending_alerts(world, clock):
    assert tasks.notifications_catch_up.call() == {"digests": 0, "instant_alerts": 0}


def test_the_schedule_comes_from_the_environment():
    env = {**os.environ, "COFFRE_DIGEST_CRON": "30 3 * * 1-5", "COFFRE_DIGEST_TIMEZONE": "UTC"}
    code = (
        "import django, json; django.setup(); from django.conf import settings; "
        "print(json.dumps(settings.COFFRE_PERIODIC_TASKS['nightly-digest']))"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {
        "task": "coffre.notifications.tasks.nightly_digest", "cron": "30 3 * * 1-5", "timezone": "UTC"
    }
