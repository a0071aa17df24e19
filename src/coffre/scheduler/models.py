"""The state of each periodic task: when it is due next and when it was last enqueued.

One row per entry of settings.COFFRE_PERIODIC_TASKS, created by the scheduler. ``schedule`` keeps
the entry's schedule as text, so that a changed schedule in settings is noticed and its next run
computed anew.
"""

from django.db import models


class PeriodicTaskState(models.Model):
    name = models.CharField(max_length=100, unique=True)
    schedule = models.CharField(max_length=200)
    next_run_at = models.DateTimeField()
    last_enqueued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} (next {self.next_run_at:%Y-%m-%d %H:%M:%S %Z})"
