"""Background work of the authorization server (thin wrappers around services)."""

from django.utils import timezone
from django_tasks import task

from coffre.oauth import services


@task()
def purge_expired_oauth_records() -> dict:
    """Forget used assertion ids and long-expired tokens; run it every few minutes."""
    result = services.purge_expired(timezone.now())
    return {"assertions": result.assertions, "tokens": result.tokens}
