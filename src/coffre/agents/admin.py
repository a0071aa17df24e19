"""The operator console's view of the agents: read-only (changes go through audited services and
``coffre agents``). The sealed credentials are never shown."""

from django.contrib import admin

from coffre.agents.models import AgentMaintenance, AgentSuggestion, Connection, SupportReport, SyncRun


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Connection)
class ConnectionAdmin(ReadOnly):
    list_display = ["id", "agent_id", "box", "folder", "status", "next_run_at", "failures", "documents"]
    list_filter = ["status", "agent_id"]
    exclude = ["credentials_sealed"]


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnly):
    list_display = ["connection", "trigger", "started_at", "ended_at", "found", "new", "status"]
    list_filter = ["status"]


@admin.register(SupportReport)
class SupportReportAdmin(ReadOnly):
    list_display = ["id", "agent_id", "status", "created_at", "resolved_at"]
    list_filter = ["agent_id", "status"]


@admin.register(AgentSuggestion)
class AgentSuggestionAdmin(ReadOnly):
    list_display = ["provider_name", "website", "created_at"]
    search_fields = ["provider_name"]


@admin.register(AgentMaintenance)
class AgentMaintenanceAdmin(ReadOnly):
    list_display = ["agent_id", "since", "reason"]
