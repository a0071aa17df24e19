"""A worker that dies without a word (``os._exit`` in a subprocess, in the middle of a sync): its
claim holds the connection until the lease lapses, then the next sync closes the dead run as
INTERRUPTED and resumes after the last committed document: every document once, none lost."""

import datetime as dt
import subprocess
import sys

import pytest
import time_machine

from coffre.agents import engine
from coffre.agents.models import Connection, RemoteItem, RunStatus, Status, SyncRun
from coffre.agents.tests.conftest import add
from coffre.mailbox.models import Message, Origin
from coffre.testing.live import child_environment

WORKER = """
import sys
import django

django.setup()
from coffre.agents import catalog, engine
from coffre.agents.tests.fakes import Crash, Shelf, ShelfAgent

shelf = Shelf()
shelf.add(5)
shelf.crash = Crash(2, sys.argv[2], "exit")
agent = ShelfAgent(shelf)
catalog._BY_ID[agent.id] = agent
engine.sync(int(sys.argv[1]))
print("the worker was expected to die")
"""


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("where", ["download", "list"], ids=["in a download", "between two documents"])
def test_a_killed_worker_leaves_no_duplicate_and_no_loss(portal, shelf, isolated_blob_storage, where):
    shelf.add(5)
    connection = add(portal)
    worker = subprocess.run(
        [sys.executable, "-c", WORKER, str(connection.pk), where],
        env=child_environment(COFFRE_BLOB_DIR=str(isolated_blob_storage)),
        capture_output=True,
        check=False,
        text=True,
        timeout=120,
    )
    assert worker.returncode == 17, worker.stdout + worker.stderr
    connection = Connection.objects.get(pk=connection.pk)
    assert connection.claimed_by and connection.cursor == "2"
    assert Message.objects.filter(origin=Origin.AGENT).count() == 2
    assert engine.sync(connection.pk).status == "busy"  # the dead worker's claim still holds

    with time_machine.travel(connection.claim_expires_at + dt.timedelta(seconds=1), tick=False):
        result = engine.sync(connection.pk)

    assert (result.status, result.found, result.new) == (Status.OK, 3, 3)
    subjects = sorted(
        next(iter(subject.values()))
        for subject in Message.objects.filter(origin=Origin.AGENT).values_list("subject", flat=True)
    )
    assert subjects == [f"Bill {number}" for number in range(1, 6)]
    assert sorted(RemoteItem.objects.values_list("remote_id", flat=True)) == [
        f"bill-{n}" for n in range(1, 6)
    ]
    dead, resumed = SyncRun.objects.order_by("started_at", "id")
    assert (dead.status, dead.new) == (RunStatus.INTERRUPTED, 0) and dead.ended_at is not None
    assert (resumed.status, resumed.new) == (RunStatus.OK, 3)
