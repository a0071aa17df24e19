"""Reads about people, roles, invitations and the security log of an enterprise.

Callers have checked the permission (``permissions.require``) for the enterprise they pass; these
functions never reach beyond it.
"""

import datetime
from dataclasses import dataclass

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from coffre.accounts.models import Enterprise, Invitation, Membership, Role, SecurityEvent, User

ROLE_ORDER = [Role.PRINCIPAL, Role.CO_PRINCIPAL, Role.MANAGER, Role.CO_MANAGER, Role.MEMBER, Role.ACCOUNTANT]
SECURITY_LOG_PAGE = 50


def _by_role() -> Case:
    return Case(
        *[When(role=role, then=Value(rank)) for rank, role in enumerate(ROLE_ORDER)],
        default=Value(len(ROLE_ORDER)),
        output_field=IntegerField(),
    )


def people_of(enterprise: Enterprise) -> QuerySet[Membership]:
    """The people of the enterprise and their roles, the principal first."""
    return (
        Membership.objects.filter(enterprise=enterprise)
        .select_related("user")
        .annotate(role_rank=_by_role())
        .order_by("role_rank", "user__email")
    )


def pending_invitations(enterprise: Enterprise) -> QuerySet[Invitation]:
    return (
        Invitation.objects.filter(
            enterprise=enterprise,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .select_related("invited_by")
        .order_by("-created_at", "-pk")
    )


def language_of_address(email: str, default: str) -> str:
    """The language to write to ``email`` in: that of the person who signs in with this address
    (their own choice), else ``default`` (an address that is nobody's account, e.g. a group one)."""
    language = User.objects.filter(email__iexact=email).values_list("language", flat=True).first()
    return language or default


def memberships_of(person) -> QuerySet[Membership]:
    """The person's roles, in active enterprises."""
    return (
        Membership.objects.filter(user=person, enterprise__active=True)
        .select_related("enterprise")
        .order_by("enterprise__name")
    )


@dataclass(frozen=True)
class Cursor:
    """Where a page of the security log starts: strictly before this event (newest first)."""

    created_at: datetime.datetime
    pk: int

    def encode(self) -> str:
        return f"{self.created_at.isoformat()}_{self.pk}"

    @classmethod
    def decode(cls, text: str | None) -> "Cursor | None":
        if not text:
            return None
        stamp, _, pk = text.rpartition("_")
        try:
            created_at = datetime.datetime.fromisoformat(stamp)
            if timezone.is_naive(created_at):
                return None
            return cls(created_at, int(pk))
        except ValueError:
            return None


@dataclass(frozen=True)
class LogPage:
    events: list[SecurityEvent]
    next_cursor: Cursor | None


def security_log(
    enterprise: Enterprise, before: Cursor | None = None, size: int = SECURITY_LOG_PAGE
) -> LogPage:
    """One page of the enterprise's security events, newest first (keyset paging)."""
    events = SecurityEvent.objects.filter(enterprise=enterprise).select_related("user")
    if before is not None:
        events = events.filter(
            Q(created_at__lt=before.created_at) | Q(created_at=before.created_at, pk__lt=before.pk)
        )
    page = list(events.order_by("-created_at", "-pk")[: size + 1])
    more = len(page) > size
    page = page[:size]
    return LogPage(page, Cursor(page[-1].created_at, page[-1].pk) if more else None)
