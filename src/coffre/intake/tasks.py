"""Background work of the intake (thin wrappers around services, plain arguments only)."""

from django_tasks import task

from coffre.intake import services


@task()
def expire_pending_mails() -> int:
    """Periodic (settings.COFFRE_PERIODIC_TASKS): mails that waited 30 days for a decision go."""
    return services.expire_pending_mails()
