"""Read-only views of e-Boxes, messages (metadata only: never content) and reference data."""

from django.contrib import admin

from coffre.core.admin import ReadOnlyAdmin
from coffre.mailbox.models import Ebox, Message, MessageType, SenderApplication, SenderOrganization


@admin.register(Ebox)
class EboxAdmin(ReadOnlyAdmin):
    list_display = ["enterprise", "created_at", "last_consulted_at"]
    search_fields = ["enterprise__cbe", "enterprise__name"]
    list_select_related = ["enterprise"]


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ["message_id", "ebox", "message_type", "sender_organization", "receipt_date", "read_at", "visible"]
    list_filter = ["visible", "registered_mail"]
    search_fields = ["message_id", "ebox__enterprise__cbe"]
    list_select_related = ["ebox__enterprise", "message_type", "sender_organization"]
    exclude = ["body", "business_data", "search_fr", "search_nl", "search_de", "search_en", "for_attention_id"]
    show_full_result_count = False


@admin.register(SenderOrganization)
class SenderOrganizationAdmin(ReadOnlyAdmin):
    list_display = ["organization_id", "short_name", "updated_at"]
    search_fields = ["organization_id"]


@admin.register(SenderApplication)
class SenderApplicationAdmin(ReadOnlyAdmin):
    list_display = ["application_id", "name", "updated_at"]
    search_fields = ["application_id"]


@admin.register(MessageType)
class MessageTypeAdmin(ReadOnlyAdmin):
    list_display = ["message_type_id", "name", "validity_number", "validity_unit", "updated_at"]
    search_fields = ["message_type_id"]
