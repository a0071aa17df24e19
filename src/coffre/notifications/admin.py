from django.contrib import admin

from coffre.notifications.models import Digest, DigestRun, InstantAlert


@admin.register(DigestRun)
class DigestRunAdmin(admin.ModelAdmin):
    """Read-only: the runs are the record of what each night covered."""

    list_display = ["night", "from_sequence", "to_sequence", "progress", "digests", "finished_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Digest)
class DigestAdmin(admin.ModelAdmin):
    list_display = ["night", "enterprise", "new_documents", "reminders", "expiring", "created_at"]
    list_select_related = ["enterprise"]
    search_fields = ["enterprise__cbe", "code"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(InstantAlert)
class InstantAlertAdmin(admin.ModelAdmin):
    list_display = ["user", "documents", "created_at"]
    search_fields = ["code", "user__email"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
