"""Reads of the agents that cross a permission boundary: which connections a person may see or act
on, their runs, and what the operators read (support reports, suggestions, maintenance).

A connection of an enterprise's space follows ``coffre.accounts.permissions.MATRIX`` in that
enterprise (``VIEW_AGENTS``, ``SYNC_AGENTS``, ``MANAGE_AGENTS``): 404 without standing (its
existence is not disclosed), 403 without the role. A connection of "My documents" is its owner's
alone: 404 for anyone else. Views and services reach connections through this module only.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from coffre.accounts.permissions import Action, require
from coffre.agents.models import (
    AgentMaintenance,
    AgentSuggestion,
    Connection,
    Status,
    SupportReport,
    SyncRun,
)
from coffre.mailbox.models import Ebox

RUNS_SHOWN = 50


def require_on_box(person, box: Ebox, action: Action) -> None:
    """Raise Http404 (no standing, or another person's box) or PermissionDenied (the role)."""
    if not getattr(person, "is_authenticated", False):
        raise Http404("no such space")
    if box.is_personal:
        if box.owner_id != person.pk:
            raise Http404("no such space")
        return
    require(person, action, box.enterprise)


def may(person, box: Ebox, action: Action) -> bool:
    try:
        require_on_box(person, box, action)
    except (Http404, PermissionDenied):
        return False
    return True


def connection_for(person, connection_id: int, action: Action, *, lock: bool = False) -> Connection:
    """The connection, when the person may do ``action`` on it; else Http404 / PermissionDenied.
    ``lock``: inside the caller's transaction, its row is locked (the connection only)."""
    query = Connection.objects.filter(pk=connection_id)
    if lock:
        query = query.select_for_update(of=("self",))
    connection = query.first()
    if connection is None:
        raise Http404("no such agent")
    box = Ebox.objects.select_related("enterprise", "owner").get(pk=connection.box_id)
    connection.box = box
    require_on_box(person, box, action)
    return connection


def connections_of_space(person, box: Ebox, folder: str) -> list[Connection]:
    """The connections fetching into one space, oldest first (the person must see agents there)."""
    require_on_box(person, box, Action.VIEW_AGENTS)
    return list(Connection.objects.filter(box=box, folder=folder).order_by("created_at", "pk"))


def runs_of(person, connection_id: int, limit: int = RUNS_SHOWN) -> list[SyncRun]:
    """A connection's history, newest first."""
    connection = connection_for(person, connection_id, Action.VIEW_AGENTS)
    return list(SyncRun.objects.filter(connection=connection).order_by("-started_at", "-id")[:limit])


def agents_in_maintenance() -> set[str]:
    return set(AgentMaintenance.objects.values_list("agent_id", flat=True))


def shown_status(connection: Connection, in_maintenance: set[str] | None = None) -> str:
    """The status a person sees: MAINTENANCE while an operator repairs the agent, else its own."""
    if in_maintenance is None:
        in_maintenance = agents_in_maintenance()
    return Status.MAINTENANCE if connection.agent_id in in_maintenance else connection.status


def last_run(connection: Connection) -> SyncRun | None:
    return SyncRun.objects.filter(connection=connection).order_by("-started_at", "-id").first()


# --- for the operators (the admin, the CLI): no person's boundary to cross ------------------------


def open_support_reports(limit: int = 100) -> list[SupportReport]:
    return list(SupportReport.objects.filter(resolved_at__isnull=True).order_by("-created_at")[:limit])


def suggestions(limit: int = 100) -> list[AgentSuggestion]:
    return list(AgentSuggestion.objects.order_by("-created_at")[:limit])
