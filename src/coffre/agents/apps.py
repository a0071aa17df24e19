from django.apps import AppConfig


class AgentsConfig(AppConfig):
    name = "coffre.agents"
    label = "agents"
    verbose_name = "Agents"
    default_auto_field = "django.db.models.BigAutoField"
