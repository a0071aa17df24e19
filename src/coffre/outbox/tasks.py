"""Background work of the outbox (thin wrappers around services, plain arguments only)."""

from django_tasks import task

from coffre.outbox import services


@task()
def deliver_mail(mail_pk: int) -> str:
    return services.deliver(mail_pk)


@task()
def enqueue_due_mail() -> int:
    """Periodic (settings.COFFRE_PERIODIC_TASKS): a task for every queued mail whose time has come."""
    return services.enqueue_due()
