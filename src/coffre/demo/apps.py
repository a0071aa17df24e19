from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "coffre.demo"
    label = "demo"
    verbose_name = "Demo data"
