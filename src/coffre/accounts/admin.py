from django.contrib import admin

from coffre.accounts.models import Enterprise
from coffre.core.admin import ReadOnlyAdmin


@admin.register(Enterprise)
class EnterpriseAdmin(ReadOnlyAdmin):
    list_display = ["cbe", "name", "language", "active", "created_at"]
    list_filter = ["active", "language"]
    search_fields = ["cbe", "name"]
