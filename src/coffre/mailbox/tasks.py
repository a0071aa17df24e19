"""Background work of the mailbox (thin wrappers around services, plain arguments only)."""

from django_tasks import task

from coffre.mailbox import orphans


@task()
def cleanup_orphan_blobs() -> int:
    """Remove content left by publications that never committed (killed process, failure)."""
    return orphans.cleanup_orphans()
