from django.contrib import admin

from coffre.audit.models import AuditRecord
from coffre.core.admin import ReadOnlyAdmin


@admin.register(AuditRecord)
class AuditRecordAdmin(ReadOnlyAdmin):
    list_display = ["seq", "timestamp", "actor_kind", "actor", "action", "method", "status"]
    list_filter = ["actor_kind", "action"]
    search_fields = ["actor", "url"]
    show_full_result_count = False
