"""Background work of the agents (thin wrappers around the engine, plain arguments only).

- ``sync_due_connections`` (periodic, settings.COFFRE_PERIODIC_TASKS ``sync-due-agents``): claims
  the due connections (``scheduling.claim_due``: each agent within its concurrency limit) and
  enqueues one ``sync_claimed`` per claim, so that the workers share them out.
- ``sync_connection``: a sync asked for at once (the first one after adding, "sync now", after the
  person's action): claims it itself; when the agent has no room, the scheduler takes it later.
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
    return engine.run_claimed(connection_id, token, trigger=Trigger.SCHEDULE).status


@task()
def sync_connection(connection_id: int, trigger: str = Trigger.SCHEDULE) -> str:
    return engine.sync(connection_id, trigger=trigger).status
