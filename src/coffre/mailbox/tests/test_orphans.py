import os
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import transaction

from coffre.accounts.services import register_enterprise
from coffre.audit.services import Actor
from coffre.core.cbe import make_cbe
from coffre.mailbox import orphans, store
from coffre.mailbox.models import BlobSweep

pytestmark = pytest.mark.django_db


@pytest.fixture
def scope():
    return register_enterprise(make_cbe(1234567), "Scope SA", Actor.cli("test")).enterprise


def staged(data: bytes) -> store.StagedContent:
    """Content written to storage by a request that then died before its transaction."""
    content = store.write_content([data])
    store.stage([content])
    return content


def committed(scope, data: bytes):
    content = staged(data)
    with transaction.atomic():
        return store.adopt(scope.pk, content)


def exists(name: str) -> bool:
    return store.blob_storage().exists(name)


def test_an_orphan_goes_once_its_hour_is_past_the_grace_period(scope, clock):
    clock.move_to("2026-03-02T10:20:00+00:00")
    orphan = staged(b"never committed")
    assert orphan.storage_name.startswith("2026/03/02/10/")
    assert orphans.cleanup_orphans() == 0
    clock.move_to("2026-03-02T11:59:00+00:00")  # written 1h39 ago, but its hour ended 59 min ago
    assert orphans.cleanup_orphans() == 0
    assert exists(orphan.storage_name)
    clock.move_to("2026-03-02T12:00:00+00:00")
    assert orphans.cleanup_orphans() == 1
    assert not exists(orphan.storage_name)


def test_content_a_blob_names_is_never_removed(scope, clock):
    clock.move_to("2026-03-02T10:20:00+00:00")
    blob = committed(scope, b"published")
    orphan = staged(b"never committed")
    clock.move_to("2026-03-03T08:00:00+00:00")
    assert orphans.cleanup_orphans() == 1
    assert b"".join(store.open_verified(blob)) == b"published"
    assert not exists(orphan.storage_name)


def test_the_first_sweep_starts_at_the_oldest_bucket(scope, clock):
    clock.move_to("2025-12-31T23:10:00+00:00")
    oldest = staged(b"from last year")
    clock.move_to("2026-02-01T04:00:00+00:00")
    recent = staged(b"a month later")
    clock.move_to("2026-02-01T07:00:00+00:00")
    assert not BlobSweep.objects.exists()
    assert orphans.cleanup_orphans() == 2
    assert not exists(oldest.storage_name) and not exists(recent.storage_name)
    assert BlobSweep.objects.get().swept_before.isoformat() == "2026-02-01T06:00:00+00:00"


def test_a_swept_bucket_is_never_listed_again(scope, clock, monkeypatch):
    clock.move_to("2026-03-02T08:30:00+00:00")
    staged(b"orphan at 8")
    committed(scope, b"blob at 8")
    clock.move_to("2026-03-02T12:00:00+00:00")
    assert orphans.cleanup_orphans() == 1  # buckets 08, 09 and 10
    late = staged(b"orphan at 12")
    listed = []
    storage = store.blob_storage()
    listdir = storage.listdir
    monkeypatch.setattr(storage, "listdir", lambda path: listed.append(path) or listdir(path))
    clock.move_to("2026-03-02T14:05:00+00:00")
    assert orphans.cleanup_orphans() == 1
    # The day is listed to find its buckets; of the buckets, only the one past the mark.
    assert listed == ["2026/03/02", "2026/03/02/12"]
    assert not exists(late.storage_name)


def test_a_run_without_new_buckets_lists_nothing_of_the_past(scope, clock, monkeypatch):
    clock.move_to("2026-03-02T08:30:00+00:00")
    committed(scope, b"blob at 8")
    clock.move_to("2026-03-02T10:00:00+00:00")
    orphans.cleanup_orphans()
    listed = []
    storage = store.blob_storage()
    listdir = storage.listdir
    monkeypatch.setattr(storage, "listdir", lambda path: listed.append(path) or listdir(path))
    clock.move_to("2026-03-02T10:14:00+00:00")
    assert orphans.cleanup_orphans() == 0
    assert listed == []


def test_the_mark_only_moves_forward(scope, clock):
    clock.move_to("2026-03-02T12:00:00+00:00")
    orphans.cleanup_orphans()
    orphans.cleanup_orphans(now=clock.now() - timedelta(hours=5))  # a late, slow concurrent run
    assert BlobSweep.objects.get().swept_before.isoformat() == "2026-03-02T11:00:00+00:00"


def test_spool_files_of_killed_uploads_go_after_the_grace_period(clock):
    clock.move_to("2026-03-02T12:00:00+00:00")
    writer = store.BlobWriter()
    writer.write(b"half an upload")  # the process dies here: the spool stays
    spool = writer._spool.name
    writer._spool.close()
    recent = clock.now().timestamp() - orphans.ORPHAN_GRACE.total_seconds() / 2
    os.utime(spool, (recent, recent))
    orphans.cleanup_orphans()
    assert os.path.exists(spool)
    old = clock.now().timestamp() - 2 * orphans.ORPHAN_GRACE.total_seconds()
    os.utime(spool, (old, old))
    orphans.cleanup_orphans()
    assert not os.path.exists(spool)
    assert not [name for name in os.listdir(settings.FILE_UPLOAD_TEMP_DIR) if name.startswith("spool-")]
