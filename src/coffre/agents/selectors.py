"""Reads of the agents that cross a permission boundary: which connections a person may see or act
on, their runs, and what the operators read (support reports, suggestions, maintenance).

A connection of an enterprise's space follows ``coffre.accounts.permissions.MATRIX`` in that
enterprise (``VIEW_AGENTS``, ``SYNC_AGENTS``, ``MANAGE_AGENTS``): 404 without standing (its
existence is not disclosed), 403 without the role. A connection of "My documents" is its owner's
alone: 404 for anyone else. Views and services reach connections through this module only.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, Q, Subquery
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
RUNS_PAGE = 20


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


def connections_of_box(person, box: Ebox) -> list[Connection]:
    """Every connection of a box (all its spaces), by space then oldest first, each with
    ``last_run_id`` (its latest run, or None) annotated."""
    require_on_box(person, box, Action.VIEW_AGENTS)
    latest = SyncRun.objects.filter(connection=OuterRef("pk")).order_by("-started_at", "-id").values("pk")[:1]
    connections = list(
        Connection.objects.filter(box=box)
        .annotate(last_run_id=Subquery(latest))
        .order_by("folder", "created_at", "pk")
    )
    for connection in connections:
        connection.box = box
    return connections


def runs_by_id(ids) -> dict[int, SyncRun]:
    """Runs by their ids (the ``last_run_id`` of connections a selector already checked)."""
    wanted = [pk for pk in ids if pk is not None]
    return {run.pk: run for run in SyncRun.objects.filter(pk__in=wanted)} if wanted else {}


def open_report_of(connection: Connection, run: SyncRun | None) -> SupportReport | None:
    """The open support report of the connection's run (reporting the same run again is one report)."""
    if run is None:
        return None
    return (
        SupportReport.objects.filter(connection=connection, run=run, resolved_at__isnull=True)
        .order_by("-created_at")
        .first()
    )


def runs_of(person, connection_id: int, limit: int = RUNS_SHOWN) -> list[SyncRun]:
    """A connection's history, newest first."""
    connection = connection_for(person, connection_id, Action.VIEW_AGENTS)
    return list(SyncRun.objects.filter(connection=connection).order_by("-started_at", "-id")[:limit])


def runs_page(
    person, connection_id: int, before: int | None = None, size: int = RUNS_PAGE
) -> tuple[list[SyncRun], int | None]:
    """One page of a connection's history, newest first, before the run ``before`` (keyset: a run
    of another connection, or none, starts from the newest); and the cursor of the next page."""
    connection = connection_for(person, connection_id, Action.VIEW_AGENTS)
    runs = SyncRun.objects.filter(connection=connection)
    if before is not None:
        cursor = runs.filter(pk=before).values("started_at", "pk").first()
        if cursor is not None:
            runs = runs.filter(
                Q(started_at__lt=cursor["started_at"])
                | Q(started_at=cursor["started_at"], pk__lt=cursor["pk"])
            )
    page = list(runs.order_by("-started_at", "-id")[: size + 1])
    more = len(page) > size
    page = page[:size]
    return page, (page[-1].pk if more else None)


def docconsumer_certificate(person, connection_id: int, agent_id: str = "ebox-docconsumer") -> str:
    """The certificate Coffre made for a DocConsumer connection (public: the person registers it
    at the e-Box side), for those who set the connection up; "" when it has none."""
    connection = connection_for(person, connection_id, Action.MANAGE_AGENTS)
    if connection.agent_id != agent_id:
        raise Http404("not an e-Box DocConsumer")
    return str((connection.shown_credentials or {}).get("certificate", ""))


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


def maintenances() -> dict[str, AgentMaintenance]:
    """The agents an operator is repairing, by agent id."""
    return {item.agent_id: item for item in AgentMaintenance.objects.all()}


def connection_counts() -> dict[str, dict[str, int]]:
    """For each agent id: how many connections it has, by their own status."""
    counts: dict[str, dict[str, int]] = {}
    rows = Connection.objects.values("agent_id", "status").annotate(count=Count("pk")).order_by()
    for row in rows:
        counts.setdefault(row["agent_id"], {})[row["status"]] = row["count"]
    return counts
