import os
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction

from coffre.accounts.services import register_enterprise
from coffre.audit.services import Actor
from coffre.core.cbe import make_cbe
from coffre.mailbox import store
from coffre.mailbox.models import Blob

pytestmark = pytest.mark.django_db

MARKER = b"PLAINTEXT-MARKER-7f3a"


@pytest.fixture
def scope():
    return register_enterprise(make_cbe(1234567), "Scope SA", Actor.cli("test")).enterprise


@pytest.fixture
def other_scope():
    return register_enterprise(make_cbe(7654321), "Other SA", Actor.cli("test")).enterprise


def blob_path(blob: Blob) -> Path:
    return Path(store.blob_storage().path(blob.storage_name))


def put(scope, data: bytes) -> Blob:
    staged = store.write_content([data])
    store.stage([staged])
    return store.adopt(scope.pk, staged)


def read(blob: Blob) -> bytes:
    return b"".join(store.open_verified(blob))


def test_content_round_trips_and_is_encrypted_at_rest(scope):
    data = MARKER * 1000
    blob = put(scope, data)
    assert read(blob) == data
    assert MARKER not in blob_path(blob).read_bytes()
    assert blob.size == len(data)
    assert blob.storage_name.startswith(store.bucket_of(blob.created_at) + "/")


def test_no_plaintext_is_left_on_disk(scope):
    put(scope, MARKER * 100)
    for root, _dirs, files in os.walk(settings.VAR_DIR):
        for name in files:
            path = Path(root) / name
            if path.suffix not in {".sqlite3", ".sqlite3-wal", ".sqlite3-shm"}:
                assert MARKER not in path.read_bytes(), path


def test_identical_content_is_stored_once_per_enterprise(scope, other_scope):
    first = put(scope, b"same bytes")
    second = put(scope, b"same bytes")
    elsewhere = put(other_scope, b"same bytes")
    assert first.pk == second.pk
    assert elsewhere.pk != first.pk
    stored = [p for p in Path(settings.STORAGES["blobs"]["OPTIONS"]["location"]).rglob("*") if p.is_file()]
    assert len(stored) == 2


def test_content_stored_meanwhile_by_a_concurrent_request_is_kept_once(scope):
    # Two requests stage the same content before either commits: neither sees the other's blob.
    first, second = store.write_content([b"same bytes"]), store.write_content([b"same bytes"])
    store.stage([first])
    store.stage([second])
    duplicate = second.storage_name
    with transaction.atomic():
        blob = store.adopt(scope.pk, first)
        twin = store.adopt(scope.pk, second)
    assert twin.pk == blob.pk
    assert Blob.objects.count() == 1
    assert store.blob_storage().exists(first.storage_name)
    assert not store.blob_storage().exists(duplicate)
    assert second.storage_name == ""  # nothing of the second request is left to abandon
    assert read(twin) == b"same bytes"


def test_identical_parts_of_one_request_share_one_file(scope):
    first, second = store.write_content([b"twice"]), store.write_content([b"twice"])
    store.stage([first, second])
    with transaction.atomic():
        blobs = {store.adopt(scope.pk, first).pk, store.adopt(scope.pk, second).pk}
    assert len(blobs) == 1
    assert first.storage_name == second.storage_name
    assert store.blob_storage().exists(first.storage_name)


def test_abandoned_content_is_removed_but_stored_content_is_kept(scope):
    kept = put(scope, b"committed before")
    fresh, duplicate = store.write_content([b"refused"]), store.write_content([b"committed before"])
    store.stage([fresh, duplicate])
    with transaction.atomic():
        assert store.adopt(scope.pk, duplicate).pk == kept.pk
        transaction.set_rollback(True)
    store.abandon([fresh, duplicate])
    assert not store.blob_storage().exists(fresh.storage_name)
    assert read(kept) == b"committed before"


def test_a_changed_byte_is_never_served(scope, caplog):
    blob = put(scope, b"invoice " * 5000)
    path = blob_path(blob)
    raw = bytearray(path.read_bytes())
    raw[-100] ^= 0x01
    path.write_bytes(bytes(raw))
    with pytest.raises(store.BlobIntegrityError):
        store.open_verified(blob)
    assert "integrity check failed" in caplog.text


def test_a_content_swapped_for_another_blob_is_detected(scope):
    first = put(scope, b"first document")
    second = put(scope, b"second document")
    blob_path(first).write_bytes(blob_path(second).read_bytes())
    with pytest.raises(store.BlobIntegrityError):
        store.open_verified(first)


def test_a_missing_file_is_an_integrity_error(scope):
    blob = put(scope, b"gone")
    blob_path(blob).unlink()
    with pytest.raises(store.BlobIntegrityError):
        store.open_verified(blob)


def test_large_content_is_verified_then_streamed(scope):
    data = os.urandom(3 * store.SMALL_BLOB + 17)
    blob = put(scope, data)
    verified = store.open_verified(blob)
    assert verified._chunks is None  # not kept in memory
    assert b"".join(verified) == data


def test_the_spool_is_private_and_goes_when_aborted():
    writer = store.BlobWriter()
    writer.write(MARKER)
    path = Path(writer._spool.name)
    assert path.stat().st_mode & 0o777 == 0o600
    writer.abort()
    assert not path.exists()
