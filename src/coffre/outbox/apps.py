from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "coffre.outbox"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from coffre.outbox import checks  # noqa: F401 - registers the system check
