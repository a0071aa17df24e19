"""``coffre agents``: the operators' side of the agents (docs/agents.md).

    coffre agents list [--json]                      the catalog, with the connections of each agent
    coffre agents maintenance AGENT on|off [--reason TEXT] [--json]
    coffre agents reports [--json]                   support reports not yet resolved
    coffre agents resolve REPORT_ID                  mark a support report resolved
    coffre agents suggestions [--json]               the agents people suggested
    coffre agents sync CONNECTION_ID [--json]        sync one connection now (when its agent has room)

Maintenance stops every connection of the agent (each shows MAINTENANCE) until it is turned off.
Nothing here prints a credential.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from coffre.agents import catalog, engine, selectors, services
from coffre.agents.models import Connection
from coffre.audit.services import Actor
from coffre.core.commands import emit


class Command(BaseCommand):
    help = "The agents: catalog, maintenance, support reports, suggestions (docs/agents.md)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help="the catalog and how many connections each agent has")
        listing.add_argument("--json", action="store_true", dest="as_json")
        maintenance = sub.add_parser("maintenance", help="put an agent in maintenance, or back in service")
        maintenance.add_argument("agent_id")
        maintenance.add_argument("state", choices=["on", "off"])
        maintenance.add_argument("--reason", default="")
        maintenance.add_argument("--json", action="store_true", dest="as_json")
        reports = sub.add_parser("reports", help="support reports not yet resolved, newest first")
        reports.add_argument("--json", action="store_true", dest="as_json")
        resolve = sub.add_parser("resolve", help="mark a support report resolved")
        resolve.add_argument("report_id", type=int)
        suggestions = sub.add_parser("suggestions", help="the agents people suggested, newest first")
        suggestions.add_argument("--json", action="store_true", dest="as_json")
        sync = sub.add_parser("sync", help="sync one connection now")
        sync.add_argument("connection_id", type=int)
        sync.add_argument("--json", action="store_true", dest="as_json")

    def handle(self, *args, action, **options):
        getattr(self, "_" + action)(**options)

    def _list(self, as_json, **_):
        counts = dict(Connection.objects.values_list("agent_id").annotate(count=Count("id")).order_by())
        repaired = selectors.agents_in_maintenance()
        rows = [
            {
                "id": agent.id,
                "name": agent.name,
                "provider": agent.provider,
                "category": str(agent.category),
                "frequency_hours": agent.frequency.total_seconds() / 3600,
                "max_concurrent": agent.max_concurrent,
                "connections": counts.get(agent.id, 0),
                "maintenance": agent.id in repaired,
            }
            for agent in catalog.all_agents()
        ]
        lines = [
            f"{row['id']}  {row['name']} ({row['provider']})  {row['connections']} connection(s)"
            + ("  IN MAINTENANCE" if row["maintenance"] else "")
            for row in rows
        ]
        emit(self, rows, as_json, "\n".join(lines) or "no agent in the catalog")

    def _maintenance(self, agent_id, state, reason, as_json, **_):
        try:
            changed = services.set_maintenance(
                agent_id, state == "on", actor=Actor.cli(f"agents maintenance {state}"), reason=reason
            )
        except services.AgentServiceError as exc:
            raise CommandError(exc.message) from None
        text = f"{agent_id}: maintenance {state}" + ("" if changed else " (it already was)")
        emit(self, {"agent": agent_id, "maintenance": state == "on", "changed": changed}, as_json, text)

    def _reports(self, as_json, **_):
        rows = [
            {
                "id": report.pk,
                "agent": report.agent_id,
                "connection": report.connection_id,
                "status": report.status,
                "created_at": report.created_at.isoformat(),
                "details": report.details,
            }
            for report in selectors.open_support_reports()
        ]
        lines = [
            f"{row['id']}  {row['created_at']}  {row['agent']}  connection {row['connection']}  {row['status']}: "
            f"{row['details'].get('errorDetail', '')}"
            for row in rows
        ]
        emit(self, rows, as_json, "\n".join(lines) or "no open support report")

    def _resolve(self, report_id, **_):
        if not services.resolve_support_report(report_id, actor=Actor.cli("agents resolve")):
            raise CommandError(f"no open support report {report_id}")
        self.stdout.write(f"support report {report_id} resolved")

    def _suggestions(self, as_json, **_):
        rows = [
            {
                "id": item.pk,
                "provider_name": item.provider_name,
                "website": item.website,
                "comment": item.comment,
                "created_at": item.created_at.isoformat(),
            }
            for item in selectors.suggestions()
        ]
        lines = [
            f"{row['created_at']}  {row['provider_name']}  {row['website']}  {row['comment']}" for row in rows
        ]
        emit(self, rows, as_json, "\n".join(lines) or "no suggestion")

    def _sync(self, connection_id, as_json, **_):
        if not Connection.objects.filter(pk=connection_id).exists():
            raise CommandError(f"no connection {connection_id}")
        services.make_due_now(connection_id, actor=Actor.cli("agents sync"))
        result = engine.sync(connection_id, trigger="sync-now")
        text = f"{connection_id}: {result.status}, {result.found} listed, {result.new} new" + (
            f": {result.error}" if result.error else ""
        )
        emit(self, result.__dict__, as_json, text)
        if result.status not in ("OK", "busy"):
            raise CommandError(f"the sync of connection {connection_id} ended in {result.status}")
