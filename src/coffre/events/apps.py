from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "coffre.events"
    default_auto_field = "django.db.models.BigAutoField"
