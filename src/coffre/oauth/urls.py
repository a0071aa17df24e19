"""URLs of the authorization server (included at the root by ``coffre.urls``)."""

from django.urls import path

from coffre.oauth import views

app_name = "oauth"

urlpatterns = [
    path("oauth2/token", views.token, name="token"),
    path("oauth2/introspect", views.introspect, name="introspect"),
    path(".well-known/oauth-authorization-server", views.metadata, name="metadata"),
]
