"""Background work of the agents (thin wrappers around the engine, plain arguments only).

- ``sync_due_connections`` (periodic, settings.COFFRE_PERIODIC_TASKS ``sync-due-agents``): claims
  the due connections (``scheduling.claim_due``: each agent within its concurrency limit) and
  enqueues one ``sync_claimed`` per claim, so that the workers share them out.
- ``sync_connection``: a sync asked for at once (the first one after adding, "sync now", after the
  person's action): claims it itself; when the agent has no room, the scheduler takes it later.

A sync that ran hands the slot it freed to its agent's next due connection at once
(``scheduling.claim_next``, one more ``sync_claimed``): without it, an agent ran at most
``max_concurrent`` syncs per round of the scheduler (a minute), and 10,000 connections due
together (after a maintenance, an outage) took days to drain (docs/benchmarks.md, agents).
"""

from django_tasks import task

from coffre.agents import engine, scheduling
from coffre.agents.models import Trigger


@task()
def sync_due_connections() -> int:
    """How many connections were claimed and handed to the workers."""
    claims = scheduling.claim_due()
    for connection_id, token in claims:
        sync_claimed.enqueue(connection_id, token)
    return len(claims)


@task()
def sync_claimed(connection_id: int, token: str) -> str:
    status = engine.run_claimed(connection_id, token, trigger=Trigger.SCHEDULE).status
    _hand_on(connection_id, status)
    return status


@task()
def sync_connection(connection_id: int, trigger: str = Trigger.SCHEDULE) -> str:
    status = engine.sync(connection_id, trigger=trigger).status
    _hand_on(connection_id, status)
    return status


def _hand_on(connection_id: int, status: str) -> None:
    if status in ("busy", "missing"):  # did not run: freed no slot
        return
    for next_id, token in scheduling.claim_next(connection_id):
        sync_claimed.enqueue(next_id, token)
