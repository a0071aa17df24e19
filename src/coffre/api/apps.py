from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "coffre.api"
    label = "api"
    verbose_name = "e-Box REST API"
