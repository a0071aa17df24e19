"""Background work of IMAP polling (thin wrappers around the poller, plain arguments only)."""

from django_tasks import task

from coffre.intake.imap import poller


@task()
def poll_due_sources() -> int:
    """Periodic (settings.COFFRE_PERIODIC_TASKS): poll every source whose time has come; how many
    were polled. A failed source waits longer each time (services.retry_delay)."""
    return len(poller.poll_due())


@task()
def poll_source(source_id: int) -> str:
    return poller.poll(source_id).status
