"""The security log: ``SecurityEvent`` records about people and enterprises.

An event about a person (a failed sign-in, a lockout, a change of two-factor authentication) is
written once for each enterprise where the person holds a role, so that each enterprise's access
managers see it in their security log; a person without a role gets one event without enterprise.
Call ``log_event`` inside the transaction of the change it describes. Never pass a secret in
``details``.
"""

from django.db import transaction

from coffre.accounts.models import Enterprise, Membership, SecurityEvent


def log_event(
    kind: str,
    *,
    user=None,
    enterprise: Enterprise | None = None,
    ip: str | None = None,
    details: dict | None = None,
) -> list[SecurityEvent]:
    """Record one event for ``enterprise``, or, without one, for every enterprise of ``user``."""
    if kind not in dict(SecurityEvent.KINDS):
        raise ValueError(f"unknown security event kind {kind!r}")
    if enterprise is not None:
        enterprises = [enterprise]
    elif user is not None and user.pk is not None:
        enterprises = list(
            Enterprise.objects.filter(pk__in=Membership.objects.filter(user=user).values("enterprise_id"))
        ) or [None]
    else:
        enterprises = [None]
    events = [
        SecurityEvent(
            kind=kind,
            enterprise=target,
            user=user if user is not None and user.pk is not None else None,
            ip_address=ip or None,
            details=details or {},
        )
        for target in enterprises
    ]
    with transaction.atomic():
        return SecurityEvent.objects.bulk_create(events)
