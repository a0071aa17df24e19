"""``coffre run``: start everything the embedded default needs, and keep it running.

Four children, supervised by coffre.scheduler.supervisor: the production HTTP server (gunicorn
with coffre/gunicorn_conf.py, never Django's runserver), the task worker of the configured
django-tasks backend, ``coffre scheduler``, and Coffre's SMTP server ``coffre smtpd`` (bounces and
documents by e-mail; COFFRE_SMTP_LISTEN). SIGINT/SIGTERM stop them all; a child that dies
is restarted with backoff.
"""

import logging
import os
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from coffre.scheduler.supervisor import ChildSpec, Supervisor

logger = logging.getLogger("coffre.run")

DATABASE_BACKEND = "django_tasks_db.DatabaseBackend"
RQ_BACKEND = "django_tasks_rq.RQBackend"


def coffre_command(*args: str) -> list[str]:
    """argv running a ``coffre`` subcommand with this interpreter (no need for it on PATH)."""
    return [sys.executable, "-m", "coffre.cli", *args]


def worker_argv(tasks_settings: dict) -> list[str] | None:
    """The worker of the default task backend, or None when Coffre cannot start one."""
    backend = tasks_settings["default"]["BACKEND"]
    queues = tasks_settings["default"].get("QUEUES") or ["default"]
    if backend == DATABASE_BACKEND:
        return coffre_command("db_worker", "--queue-name", ",".join(queues), "--no-reload")
    if backend == RQ_BACKEND:
        return coffre_command(
            "rqworker", "--job-class", "django_tasks_rq.backend.Job", "--with-scheduler", *queues
        )
    return None


def server_argv() -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        "python:coffre.gunicorn_conf",
        "coffre.wsgi:application",
    ]


def listen_urls(binds: list[str]) -> list[str]:
    """What to tell a person about each gunicorn bind address (host:port, unix:path, fd://n)."""
    urls = []
    for bind in binds:
        if bind.startswith(("unix:", "fd://")):
            urls.append(bind)
            continue
        host, _, port = bind.rpartition(":")
        if not host:  # gunicorn reads a bare host as host:8000
            host, port = bind, "8000"
        if host in ("0.0.0.0", "[::]"):
            urls.append(f"http://127.0.0.1:{port}/ (on all interfaces)")
        else:
            urls.append(f"http://{host}:{port}/")
    return urls


def unapplied_migrations() -> int:
    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))


class Command(BaseCommand):
    help = "Start Coffre: the HTTP server (gunicorn), the task worker, the scheduler and the SMTP server."

    def add_arguments(self, parser):
        parser.add_argument("--bind", help="address to listen on (default: COFFRE_BIND or 127.0.0.1:8000)")
        parser.add_argument("--no-worker", action="store_true", help="do not start the task worker")
        parser.add_argument("--no-scheduler", action="store_true", help="do not start the scheduler")
        parser.add_argument("--no-smtpd", action="store_true", help="do not start the SMTP server")

    def handle(
        self, *args, bind: str | None, no_worker: bool, no_scheduler: bool, no_smtpd: bool = False, **options
    ):
        env = dict(os.environ)
        env.setdefault("DJANGO_SETTINGS_MODULE", "coffre.settings")
        env["PYTHONUNBUFFERED"] = "1"
        if bind:
            env["COFFRE_BIND"] = bind
        binds = [item.strip() for item in env.get("COFFRE_BIND", "127.0.0.1:8000").split(",") if item.strip()]

        pending = unapplied_migrations()
        if pending:
            raise CommandError(f"{pending} database migration(s) not applied: run `coffre migrate` first")

        specs = [ChildSpec("web", server_argv())]
        if not no_worker:
            argv = worker_argv(settings.TASKS)
            if argv is None:
                logger.warning(
                    "run: no worker for task backend %s: start its worker yourself",
                    settings.TASKS["default"]["BACKEND"],
                )
            else:
                specs.append(ChildSpec("worker", argv))
        if not no_scheduler:
            specs.append(ChildSpec("scheduler", coffre_command("scheduler")))
        if not no_smtpd:
            specs.append(ChildSpec("smtpd", coffre_command("smtpd")))

        # The children open their own connections; this process keeps none while it supervises.
        connections.close_all()
        supervisor = Supervisor(specs, env=env)
        supervisor.install_signal_handlers()
        for url in listen_urls(binds):
            self.stdout.write(f"Coffre is listening on {url}")
        if not no_smtpd:
            self.stdout.write(
                f"Coffre's SMTP server (bounces, documents by e-mail) listens on {settings.COFFRE_SMTP_LISTEN}"
            )
        self.stdout.write("Stop with Ctrl-C (SIGINT) or SIGTERM.")
        self.stdout.flush()
        code = supervisor.run()
        if code:
            raise CommandError("some processes had to be killed", returncode=code)
