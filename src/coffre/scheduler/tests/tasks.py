"""Tasks that the scheduler's tests enqueue (they must be importable by dotted path)."""

from django_tasks import task


@task()
def tick() -> str:
    return "tick"


@task()
def tock() -> str:
    return "tock"


def not_a_task() -> None:
    """A plain function: the scheduler must refuse it."""
