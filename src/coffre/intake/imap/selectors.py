"""Reads of IMAP sources (operators only: the CLI and the periodic poll; no person sees them yet)."""

from django.db.models import F, Q
from django.utils import timezone

from coffre.intake.imap.models import ImapSource


def list_sources() -> list[ImapSource]:
    return list(ImapSource.objects.order_by("pk"))


def get_source(source_id: int) -> ImapSource | None:
    return ImapSource.objects.filter(pk=source_id).first()


def due_source_ids(limit: int = 100) -> list[int]:
    """Active, unclaimed sources whose next attempt has come, the longest waiting first."""
    now = timezone.now()
    return list(
        ImapSource.objects.filter(active=True)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
        .order_by(F("next_attempt_at").asc(nulls_first=True), "pk")
        .values_list("pk", flat=True)[:limit]
    )
