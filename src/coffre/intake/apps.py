from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "coffre.intake"
    default_auto_field = "django.db.models.BigAutoField"
