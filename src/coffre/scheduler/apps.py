from django.apps import AppConfig


class SchedulerConfig(AppConfig):
    name = "coffre.scheduler"
    label = "scheduler"
    verbose_name = "Scheduler"

    def ready(self):
        from coffre.scheduler import checks  # noqa: F401  (registers the system check)
