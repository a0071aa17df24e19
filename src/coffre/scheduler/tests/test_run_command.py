"""``coffre run``: serves HTTP with gunicorn, runs tasks, answers SMTP, restarts what dies, stops on
SIGTERM."""

import os
import re
import signal
import smtplib
import subprocess
import sys
import urllib.request

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django_tasks_db.models import DBTaskResult

from coffre.scheduler.management.commands.run import listen_urls, worker_argv
from coffre.scheduler.tests.tasks import tick
from coffre.scheduler.tests.test_supervisor import is_gone, wait_until
from coffre.testing.live import child_environment, free_port, stop_process, wait_for_http


def started_pids(log: str, name: str) -> list[int]:
    return [int(pid) for pid in re.findall(rf"run: {name} started \(pid (\d+)\)", log)]


def smtp_answers(port: int) -> bool:
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
            return client.noop()[0] == 250
    except OSError:
        return False


@pytest.mark.live
def test_run_serves_runs_tasks_restarts_and_stops(transactional_db, tmp_path):
    port = free_port()
    smtp_port = free_port()
    log_path = tmp_path / "run.log"
    env = child_environment(
        COFFRE_BIND=f"127.0.0.1:{port}", COFFRE_WEB_WORKERS="1", COFFRE_SMTP_LISTEN=f"127.0.0.1:{smtp_port}"
    )
    with open(log_path, "w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "coffre.cli", "run"],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        wait_for_http("127.0.0.1", port, process=process, output=log_path)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/login/") as page:
            assert page.status == 200
        log = log_path.read_text()
        assert f"Coffre is listening on http://127.0.0.1:{port}/" in log
        assert "runserver" not in log
        assert f"Coffre's SMTP server (bounces, documents by e-mail) listens on 127.0.0.1:{smtp_port}" in log

        # Coffre's SMTP server answers (it may start a little after the HTTP server).
        wait_until(lambda: smtp_answers(smtp_port), timeout=60)

        # The worker started by `coffre run` runs what is enqueued.
        result = tick.enqueue()
        wait_until(lambda: DBTaskResult.objects.get(id=result.id).status == "SUCCESSFUL", timeout=60)
        assert DBTaskResult.objects.get(id=result.id).return_value == "tick"

        # A child that dies is restarted.
        [scheduler_pid] = started_pids(log_path.read_text(), "scheduler")
        os.kill(scheduler_pid, signal.SIGKILL)
        wait_until(lambda: len(started_pids(log_path.read_text(), "scheduler")) == 2, timeout=60)
        assert (
            f"scheduler (pid {scheduler_pid}) exited unexpectedly with signal SIGKILL" in log_path.read_text()
        )

        assert stop_process(process, signal.SIGTERM, timeout=60) == 0
    finally:
        stop_process(process, signal.SIGKILL)
    log = log_path.read_text()
    for name in ("web", "worker", "scheduler", "smtpd"):
        assert f"run: {name} stopped" in log
        assert all(is_gone(pid) for pid in started_pids(log, name))


@pytest.mark.django_db
def test_run_refuses_to_start_on_an_unmigrated_database(monkeypatch):
    def must_not_start(self):
        raise AssertionError("the supervisor was started")

    monkeypatch.setattr("coffre.scheduler.management.commands.run.Supervisor.run", must_not_start)
    MigrationRecorder(connection).migration_qs.filter(app="scheduler").delete()
    with pytest.raises(CommandError, match=r"migration\(s\) not applied: run `coffre migrate` first"):
        call_command("run")


def test_the_worker_follows_the_task_backend():
    assert worker_argv(
        {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "mail"]}}
    )[-4:] == ["db_worker", "--queue-name", "default,mail", "--no-reload"]
    assert worker_argv({"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}})[-5:] == [
        "rqworker",
        "--job-class",
        "django_tasks_rq.backend.Job",
        "--with-scheduler",
        "default",
    ]
    assert worker_argv({"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}) is None


def test_listen_urls_tell_where_to_point_a_browser():
    assert listen_urls(["127.0.0.1:8000"]) == ["http://127.0.0.1:8000/"]
    assert listen_urls(["0.0.0.0:8080", "unix:/run/coffre.sock"]) == [
        "http://127.0.0.1:8080/ (on all interfaces)",
        "unix:/run/coffre.sock",
    ]
