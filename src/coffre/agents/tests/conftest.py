"""The agents' tests' world: the mailbox tests' portal (A with alice, access manager, bob, member,
ann, accountant, and the firm's carl; B with charlie) and a ``ShelfAgent`` in the catalog, whose
shelf each test fills."""

import pytest
from django.utils.module_loading import import_string
from django_tasks_db.models import DBTaskResult

from coffre.agents import catalog, services
from coffre.agents.models import Connection
from coffre.agents.tests.fakes import LOGIN, PASSWORD, Shelf, ShelfAgent
from coffre.audit.services import Actor
from coffre.mailbox.tests.conftest import portal  # noqa: F401  (the fixture)
from coffre.notifications.tests.conftest import world  # noqa: F401  (the fixture, with notification addresses)


@pytest.fixture
def shelf(monkeypatch) -> Shelf:
    """The test agent's shelf; the agent is in the catalog for the test."""
    agent = ShelfAgent(Shelf())
    monkeypatch.setitem(catalog._BY_ID, agent.id, agent)
    return agent.shelf


def web(name: str) -> Actor:
    return Actor(kind="web", name=f"{name}@example.be", method="POST", url="/agents/")


def credentials(password: str = PASSWORD, **extra) -> dict:
    return {"login": LOGIN, "password": password, **extra}


def add(
    people,
    name: str = "alice",
    *,
    box=None,
    folder: str = "documents",
    password: str = PASSWORD,
    agent_id: str = ShelfAgent.id,
    label: str = "",
) -> Connection:
    """A connection of ``name`` (a person of the portal ``people``) to the shelf agent, by the service."""
    person = people.people[name]
    return services.add_connection(
        person, box or people.ebox_a, folder, agent_id, credentials(password), actor=web(name), label=label
    )


def run_enqueued(task_path: str | None = None) -> list:
    """Run the tasks waiting in the database queue (optionally of one task), oldest first, once."""
    results = []
    waiting = DBTaskResult.objects.filter(status="READY").order_by("enqueued_at", "id")
    if task_path:
        waiting = waiting.filter(task_path=task_path)
    for row in list(waiting):
        row.delete()
        task = import_string(row.task_path)
        results.append(task.call(*row.args_kwargs["args"], **row.args_kwargs["kwargs"]))
    return results
