"""Rate limits shared by every process (kept in the database, counted atomically).

``hit(key, limit, window)`` counts one attempt and says whether it is still within the limit;
``blocked(key, limit, window)`` only looks, and ``retry_after`` says for how long. Used for
sign-in attempts, linking a business account, and anything else that must not be guessed by trying.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from coffre.core.models import RateLimitBucket


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    count: int
    retry_after: timedelta


def hit(key: str, limit: int, window: timedelta) -> Verdict:
    """Count one attempt under ``key``; allowed while at most ``limit`` attempts in ``window``."""
    now = timezone.now()
    with transaction.atomic():
        bucket = RateLimitBucket.objects.select_for_update().filter(key=key).first()
        if bucket is None:
            try:
                with transaction.atomic():
                    bucket = RateLimitBucket.objects.create(key=key, window_start=now, count=1)
            except IntegrityError:  # created meanwhile by another request
                bucket = RateLimitBucket.objects.select_for_update().get(key=key)
            else:
                return Verdict(True, 1, timedelta(0))
        if bucket.window_start + window <= now:
            RateLimitBucket.objects.filter(pk=bucket.pk).update(window_start=now, count=1)
            return Verdict(True, 1, timedelta(0))
        RateLimitBucket.objects.filter(pk=bucket.pk).update(count=F("count") + 1)
        count = bucket.count + 1
    return Verdict(count <= limit, count, bucket.window_start + window - now if count > limit else timedelta(0))


def blocked(key: str, limit: int, window: timedelta) -> bool:
    bucket = RateLimitBucket.objects.filter(key=key).first()
    return bucket is not None and bucket.window_start + window > timezone.now() and bucket.count >= limit


def retry_after(key: str, limit: int, window: timedelta) -> timedelta | None:
    """How much longer ``key`` stays blocked (as ``blocked`` sees it), or None when it is not."""
    bucket = RateLimitBucket.objects.filter(key=key).first()
    if bucket is None or bucket.count < limit:
        return None
    remaining = bucket.window_start + window - timezone.now()
    return remaining if remaining > timedelta(0) else None


def reset(key: str) -> None:
    RateLimitBucket.objects.filter(key=key).delete()


def purge(older_than: timedelta = timedelta(days=2)) -> int:
    return RateLimitBucket.objects.filter(window_start__lt=timezone.now() - older_than).delete()[0]
