"""Read-only view of webservice clients in the Django admin.

Clients are created and revoked with ``coffre client`` (audited services); the admin only shows
them. Access tokens and used assertions are not shown at all: their hashes are of no use to a
person and are not to be copied around.
"""

from django.contrib import admin

from coffre.oauth.certificates import verification_key
from coffre.oauth.models import WebserviceClient
from coffre.oauth.scopes import short_name


@admin.register(WebserviceClient)
class WebserviceClientAdmin(admin.ModelAdmin):
    list_display = ["client_id", "enterprise", "name", "scope_names", "active", "created_at"]
    list_filter = ["active"]
    search_fields = ["client_id", "name", "enterprise__cbe", "enterprise__name"]
    list_select_related = ["enterprise"]
    fields = [
        "client_id",
        "enterprise",
        "name",
        "scope_names",
        "active",
        "created_at",
        "certificate_sha256",
        "certificate_subject",
        "certificate_validity",
        "certificate_pem",
    ]
    readonly_fields = fields

    @admin.display(description="scopes")
    def scope_names(self, client):
        return ", ".join(short_name(scope) for scope in client.scopes)

    @admin.display(description="certificate subject")
    def certificate_subject(self, client):
        return verification_key(client.certificate_pem)[0].subject

    @admin.display(description="certificate validity (UTC)")
    def certificate_validity(self, client):
        certificate = verification_key(client.certificate_pem)[0]
        return f"{certificate.not_before:%Y-%m-%d %H:%M} to {certificate.not_after:%Y-%m-%d %H:%M}"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
