from django.contrib import admin

from coffre.scheduler.models import PeriodicTaskState


@admin.register(PeriodicTaskState)
class PeriodicTaskStateAdmin(admin.ModelAdmin):
    """Read-only: the schedule is in settings; deleting a row makes the scheduler start it afresh."""

    list_display = ["name", "schedule", "next_run_at", "last_enqueued_at"]
    readonly_fields = ["name", "schedule", "next_run_at", "last_enqueued_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
