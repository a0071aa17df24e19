from django.apps import AppConfig


class OAuthConfig(AppConfig):
    name = "coffre.oauth"
    label = "oauth"
    verbose_name = "Webservice clients and tokens"
