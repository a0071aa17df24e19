"""System check: a configured DKIM key can sign (at start-up, never quoting the key)."""

from django.conf import settings
from django.core.checks import Error, register

from coffre.outbox.transport import dkim_key_problem


@register()
def check_dkim_key(app_configs=None, **kwargs):
    if not settings.COFFRE_DKIM_PRIVATE_KEY:
        return []
    problem = dkim_key_problem(settings.COFFRE_DKIM_PRIVATE_KEY)
    if problem is None:
        return []
    return [Error(f"COFFRE_DKIM_PRIVATE_KEY(_FILE): {problem}", id="outbox.E001")]
