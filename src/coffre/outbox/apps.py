from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "coffre.outbox"
    default_auto_field = "django.db.models.BigAutoField"
