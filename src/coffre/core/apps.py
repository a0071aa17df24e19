from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "coffre.core"
    label = "core"
