"""The world of the agents phase (``bench/agents.py``): the connections of ``demo-energy`` in
Coffre's database, their schedule, and the fake portal with the same accounts under gunicorn.

Connections are written in bulk (``populate``), not through ``services.add_connection``, which
would queue 10,000 first syncs; their credentials are sealed one by one as that service does.
"""

import datetime as dt
import subprocess
import time
import urllib.request
from pathlib import Path

import agents_portal
from common import (
    BENCH_DIR,
    PYTHON,
    ROOT,
    free_port,
    phase_env,
    process_cpu_seconds,
    stop_process,
    with_children,
)

AGENT = "demo-energy"
PER_ENTERPRISE = 5
PORTAL_WORKERS, PORTAL_THREADS = 2, 4


# --- the connections ------------------------------------------------------------------------------


def populate(connections: int) -> dict:
    """Enterprises (through the service) and their connections (written in bulk, credentials sealed
    one by one as ``services.add_connection`` does); none due yet."""
    from coffre.accounts.services import register_enterprise
    from coffre.agents import credentials
    from coffre.agents.models import Connection, Status
    from coffre.audit.services import Actor
    from coffre.core.cbe import make_cbe
    from coffre.mailbox.models import Ebox

    started = time.monotonic()
    actor = Actor.cli("bench")
    boxes = []
    for number in range(-(-connections // PER_ENTERPRISE)):
        enterprise = register_enterprise(make_cbe(7_000_000 + number), f"Client {number}", actor).enterprise
        boxes.append(Ebox.objects.get(enterprise=enterprise, owner=None).pk)
    far = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
    rows = [
        Connection(
            box_id=boxes[number // PER_ENTERPRISE],
            folder="documents",
            agent_id=AGENT,
            label=f"Compteur {number}",
            credentials_sealed=credentials.seal(
                {"login": agents_portal.login(number), "password": agents_portal.password(number)}
            ),
            shown_credentials={"login": agents_portal.login(number)},
            status=Status.PENDING,
            next_run_at=far,
        )
        for number in range(connections)
    ]
    Connection.objects.bulk_create(rows, batch_size=1000)
    return {"enterprises": len(boxes), "seconds": time.monotonic() - started}


def connection_ids() -> list[int]:
    from coffre.agents.models import Connection

    return list(Connection.objects.order_by("pk").values_list("pk", flat=True))


def spread(now: dt.datetime) -> None:
    """Every connection at its regular slot of the agent's period, as its syncs leave it."""
    from django.db import connection, transaction

    from coffre.agents import catalog, scheduling

    frequency = catalog.agent(AGENT).frequency
    adapt = connection.ops.adapt_datetimefield_value
    rows = [(adapt(scheduling.next_regular_run(pk, frequency, now)), pk) for pk in connection_ids()]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany("UPDATE agents_connection SET next_run_at = %s WHERE id = %s", rows)


def make_due(due_ids: list[int], now: dt.datetime) -> None:
    """Every claim released; ``due_ids`` due, in their order, a second apart, all past."""
    from django.db import connection, transaction

    adapt = connection.ops.adapt_datetimefield_value
    first = now - dt.timedelta(seconds=len(due_ids) + 1)
    rows = [(adapt(first + dt.timedelta(seconds=index)), pk) for index, pk in enumerate(due_ids)]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE agents_connection SET claimed_by = '', claim_expires_at = NULL WHERE claimed_by != ''"
        )
        cursor.executemany("UPDATE agents_connection SET next_run_at = %s WHERE id = %s", rows)


def release_claimed(now: dt.datetime) -> None:
    """The syncs of the claimed connections "end": released, next run a period later."""
    from coffre.agents.models import Connection

    Connection.objects.exclude(claimed_by="").update(
        claimed_by="", claim_expires_at=None, next_run_at=now + dt.timedelta(days=3)
    )


def clear_queue() -> None:
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.all().delete()


# --- the portal -----------------------------------------------------------------------------------


class Portal:
    """The fake portal under gunicorn (threaded workers, its state built before the fork)."""

    def __init__(self, var_dir: Path, accounts: int, bills: int, pdf_bytes: int):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log_path = var_dir / "portal.log"
        self.env = {
            **phase_env(var_dir),
            "BENCH_PORTAL_ACCOUNTS": str(accounts),
            "BENCH_PORTAL_BILLS": str(bills),
            "BENCH_PORTAL_PDF_BYTES": str(pdf_bytes),
        }

    def __enter__(self) -> "Portal":
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "--preload", "--worker-class", "gthread",
             "--workers", str(PORTAL_WORKERS), "--threads", str(PORTAL_THREADS),
             "--bind", f"127.0.0.1:{self.port}", "--chdir", str(BENCH_DIR),
             "--log-level", "warning", "--keep-alive", "30", "agents_portal:application"],
            env=self.env, cwd=ROOT, stdout=self._log, stderr=self._log,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"agents bench: the portal stopped at start-up; see {self.log_path}")
            try:
                with urllib.request.urlopen(self.url + "login", timeout=2):
                    return self
            except OSError:
                time.sleep(0.2)
        self.__exit__()
        raise SystemExit(f"agents bench: the portal did not answer; see {self.log_path}")

    def cpu_seconds(self) -> float:
        return sum(process_cpu_seconds(pid) for pid in with_children(self.process.pid))

    def __exit__(self, *exc) -> None:
        stop_process(self.process)
        self._log.close()
