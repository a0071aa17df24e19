"""System check: COFFRE_PERIODIC_TASKS is well formed and names importable tasks (at start-up)."""

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from coffre.scheduler.schedules import configured_entries


@checks.register()
def check_periodic_tasks(app_configs=None, **kwargs):
    try:
        for entry in configured_entries():
            entry.load_task()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="scheduler.E001")]
    return []
