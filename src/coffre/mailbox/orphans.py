"""Finding and removing content that no blob names: the leftovers of killed or failed requests.

A publication writes its files to storage (``store.stage``) before the transaction that names
them in ``Blob`` rows; a process killed in between leaves files that nothing names. They are
found without any write per publication: a file's storage name starts with the hour (UTC) it
was written in, ``YYYY/MM/DD/HH/``. Once an hour bucket is older than ``ORPHAN_GRACE`` (no
request still writes into it, nor is still about to commit a row naming one of its files),
``cleanup_orphans`` lists that bucket through the Storage API, looks its names up among the
``Blob`` rows, removes the files no row names, and moves the ``BlobSweep`` mark past the bucket
so that it is never listed again. The work of a run is in proportion to the files written
in the hours it sweeps (plus one listing per day it crosses), never to all the blobs stored.

An orphan is removed between ``ORPHAN_GRACE`` and ``ORPHAN_GRACE`` + 1 hour + the schedule's
period (15 minutes) after it was written. Spool files left in FILE_UPLOAD_TEMP_DIR by a request
killed while its body arrived go after ``ORPHAN_GRACE`` as well.

This module never removes a file that a ``Blob`` row names, and never reads content.
"""

import datetime as dt
import os

from django.conf import settings
from django.utils import timezone

from coffre.mailbox.models import Blob, BlobSweep
from coffre.mailbox.store import blob_storage, bucket_of

ORPHAN_GRACE = dt.timedelta(hours=1)
HOUR = dt.timedelta(hours=1)
_LOOKUP_BATCH = 500


def _hour(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


def _listdir(path: str) -> tuple[list[str], list[str]]:
    try:
        return blob_storage().listdir(path)
    except FileNotFoundError:  # FileSystemStorage; object storages answer empty lists
        return [], []


def _first_bucket() -> dt.datetime | None:
    """The oldest hour bucket in storage (its start), walking year, month, day and hour folders."""

    def walk(path: str, depth: int) -> str | None:
        for name in sorted(_listdir(path)[0]):
            if not name.isdigit():
                continue
            found = f"{path}/{name}".lstrip("/") if depth == 3 else walk(f"{path}/{name}".lstrip("/"), depth + 1)
            if found:
                return found
        return None

    found = walk("", 0)
    if found is None:
        return None
    return dt.datetime.strptime(found, "%Y/%m/%d/%H").replace(tzinfo=dt.UTC)


def _sweep_bucket(bucket: str) -> int:
    names = [f"{bucket}/{name}" for name in _listdir(bucket)[1]]
    removed = 0
    for start in range(0, len(names), _LOOKUP_BATCH):
        batch = names[start : start + _LOOKUP_BATCH]
        # Exact names on the unique index: no prefix match, whose ordering depends on collations.
        named = set(Blob.objects.filter(storage_name__in=batch).values_list("storage_name", flat=True))
        for name in batch:
            if name not in named:
                blob_storage().delete(name)
                removed += 1
    return removed


def _buckets_between(start: dt.datetime, end: dt.datetime):
    """The hour buckets present in storage from ``start`` (included) to ``end`` (excluded)."""
    day = start.replace(hour=0)
    while day < end:
        present = {name for name in _listdir(day.strftime("%Y/%m/%d"))[0] if name.isdigit()}
        for hour in sorted(present):
            moment = day.replace(hour=int(hour))
            if start <= moment < end:
                yield moment
        day += dt.timedelta(days=1)


def _mark(moment: dt.datetime) -> None:
    # Only forward: a slower concurrent run never moves the mark back.
    if not BlobSweep.objects.filter(pk=1, swept_before__lt=moment).update(swept_before=moment):
        BlobSweep.objects.get_or_create(pk=1, defaults={"swept_before": moment})


def cleanup_orphans(now: dt.datetime | None = None) -> int:
    """Remove stored files that no blob names, in the buckets past the grace period; the number
    removed. Idempotent, and safe to run twice at once (both may delete the same orphan)."""
    now = now or timezone.now()
    end = _hour(now - ORPHAN_GRACE)  # buckets that start before this one are complete and old
    sweep = BlobSweep.objects.filter(pk=1).first()
    start = sweep.swept_before if sweep else _first_bucket()
    removed = 0
    if start is not None and start < end:
        for bucket in _buckets_between(_hour(start), end):
            removed += _sweep_bucket(bucket_of(bucket))
    if start is None or start < end:
        _mark(end)
    _remove_old_spools(now - ORPHAN_GRACE)
    return removed


def _remove_old_spools(cutoff: dt.datetime) -> None:
    for entry in os.scandir(settings.FILE_UPLOAD_TEMP_DIR):
        if entry.name.startswith("spool-") and entry.stat().st_mtime < cutoff.timestamp():
            os.unlink(entry.path)
