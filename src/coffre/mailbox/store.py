"""The document store: content encrypted at rest, hashed on the way in, verified on the way out.

Writing: ``BlobWriter`` takes the content chunk by chunk (from an upload handler or a file),
computes its SHA-256 and seals it (``coffre.core.crypto``) into a spool file under
FILE_UPLOAD_TEMP_DIR; nothing is ever held whole in memory. ``stage`` then moves the spool into the
"blobs" storage (Django's Storage API, so that object storage can be plugged in) under a name in
the bucket of the current hour, without touching the database; the caller's transaction turns
staged content into ``Blob`` rows with ``adopt``. Identical content of the same enterprise (or of
the same person's "My documents") is stored once: the unique (scope, SHA-256) or (owner, SHA-256)
constraint decides, and a duplicate file is removed.
A file whose transaction never committed (a killed process) is found later by
``coffre.mailbox.orphans`` in its hour bucket.

Reading: ``open_verified`` decrypts and checks the whole blob against its recorded SHA-256 and
size before the first byte is handed out; a blob that fails is never served.

This module never logs content or keys.
"""

import datetime as dt
import hashlib
import logging
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files import File
from django.core.files.storage import storages
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from coffre.core import rows
from coffre.core.crypto import DecryptionError, EncryptingWriter, decrypt_stream
from coffre.core.keys import keyring
from coffre.mailbox.models import Blob

log = logging.getLogger(__name__)

PURPOSE = b"documents/v1"
SNIFF_BYTES = 64
# Blobs up to this size are verified and served from one decryption (kept in memory meanwhile);
# larger ones are decrypted twice: once to verify, once to serve.
SMALL_BLOB = 1024 * 1024
# Storage names start with the hour (UTC) they were written in: coffre.mailbox.orphans lists one
# bucket at a time.
BUCKET_FORMAT = "%Y/%m/%d/%H"


class BlobIntegrityError(Exception):
    """Stored content does not match what was recorded: it must not be served."""


def blob_storage():
    return storages["blobs"]


class _SpoolFile(File):
    """A finished spool file; FileSystemStorage moves it into place instead of copying."""

    def temporary_file_path(self):
        return self.file.name


@dataclass
class StagedContent:
    """Sealed content in a spool file, before it becomes a Blob."""

    spool_path: str
    sha256: str
    size: int
    head: bytes  # the first bytes of the plaintext, to recognise executables
    storage_name: str = ""  # set by stage() when written to storage; "" again once removed

    def discard(self) -> None:
        try:
            os.unlink(self.spool_path)
        except FileNotFoundError:
            pass


def _private_file(path: str, flags: int) -> int:
    return os.open(path, flags | os.O_CLOEXEC, 0o600)


class BlobWriter:
    def __init__(self):
        # A plain unbuffered file: the sealer writes whole segments, and tempfile's wrapper cost
        # a tenth of a millisecond per publication for nothing.
        path = os.path.join(settings.FILE_UPLOAD_TEMP_DIR, f"spool-{uuid.uuid4().hex}")
        self._spool = open(path, "xb", buffering=0, opener=_private_file)
        self._hash = hashlib.sha256()
        self._sealer = EncryptingWriter(self._spool, keyring(), PURPOSE)
        self._head = bytearray()
        self.size = 0

    def write(self, data: bytes) -> None:
        if len(self._head) < SNIFF_BYTES:
            self._head += data[: SNIFF_BYTES - len(self._head)]
        self._hash.update(data)
        self._sealer.write(data)
        self.size += len(data)

    def finish(self) -> StagedContent:
        self._sealer.close()
        if settings.COFFRE_BLOB_FSYNC:
            os.fsync(self._spool.fileno())
        self._spool.close()
        return StagedContent(self._spool.name, self._hash.hexdigest(), self.size, bytes(self._head))

    def abort(self) -> None:
        self._spool.close()
        try:
            os.unlink(self._spool.name)
        except FileNotFoundError:
            pass


def write_content(chunks) -> StagedContent:
    """Seal an iterable of byte chunks (files, demo data, agents)."""
    writer = BlobWriter()
    try:
        for chunk in chunks:
            writer.write(chunk)
    except BaseException:
        writer.abort()
        raise
    return writer.finish()


def bucket_of(moment) -> str:
    return moment.astimezone(dt.UTC).strftime(BUCKET_FORMAT)


def _new_storage_name() -> str:
    return f"{bucket_of(timezone.now())}/{uuid.uuid4().hex}"


def stage(contents: list[StagedContent]) -> None:
    """Move sealed content into storage, before the transaction that adopts it.

    No database write here: a process killed between this and the commit leaves a file that no
    ``Blob`` names, in the bucket of this hour, where ``coffre.mailbox.orphans`` finds it.
    Identical parts of one request share one file.
    """
    storage = blob_storage()
    written: dict[str, str] = {}
    for content in contents:
        twin = written.get(content.sha256)
        if twin is not None:
            content.storage_name = twin
            content.discard()
            continue
        with open(content.spool_path, "rb") as handle:
            content.storage_name = storage.save(_new_storage_name(), _SpoolFile(handle))
        written[content.sha256] = content.storage_name
        content.discard()


def adopt(scope_id: int | None, content: StagedContent, *, owner_id: int | None = None) -> Blob:
    """Inside the caller's transaction: the Blob for staged content, new or already stored.

    ``scope_id``: the enterprise whose content it is; or ``owner_id`` instead (and ``scope_id``
    None): the person whose own documents ("My documents") it is.

    One INSERT that does nothing when the scope already has this content (the unique constraint
    decides, also against a concurrent request); then that blob is the one, and the file just
    staged is a duplicate, removed at once: no row names it, whatever the transaction does next.
    """
    if (scope_id is None) == (owner_id is None):
        raise ValueError("a blob belongs to one enterprise or to one person")
    conflict = ("scope", "sha256") if scope_id is not None else ("owner", "sha256")
    blob = Blob(
        scope_id=scope_id, owner_id=owner_id, sha256=content.sha256, size=content.size,
        storage_name=content.storage_name,
    )
    if rows.insert([blob], ignore_conflicts_on=conflict):
        return blob
    existing = Blob.objects.get(scope_id=scope_id, owner_id=owner_id, sha256=content.sha256)
    if existing.storage_name != content.storage_name:
        blob_storage().delete(content.storage_name)
        content.storage_name = ""
    return existing


def abandon(contents: list[StagedContent]) -> None:
    """Best-effort removal of staged content whose message was refused or rolled back."""
    for content in contents:
        content.discard()
        name = content.storage_name
        if name and not Blob.objects.filter(storage_name=name).exists():
            blob_storage().delete(name)


def discard_blob(blob_id: int) -> bool:
    """Inside the caller's transaction: delete the blob unless a row still names it (an
    attachment, a mail waiting for a decision: their foreign keys protect it); its file is removed
    once the transaction has committed. True when it was deleted."""
    blob = Blob.objects.filter(pk=blob_id).first()
    if blob is None:
        return False
    try:
        with transaction.atomic():
            blob.delete()
    except ProtectedError:
        return False
    name = blob.storage_name
    transaction.on_commit(lambda: blob_storage().delete(name))
    return True


def _decrypted_chunks(blob: Blob) -> Iterator[bytes]:
    try:
        handle = blob_storage().open(blob.storage_name, "rb")
    except FileNotFoundError:
        raise BlobIntegrityError(f"blob {blob.pk} is missing from storage") from None
    with handle:
        try:
            yield from decrypt_stream(handle, keyring(), PURPOSE)
        except DecryptionError as exc:
            raise BlobIntegrityError(f"blob {blob.pk}: {exc}") from None


def _check(blob: Blob, digest: str, size: int) -> None:
    if digest != blob.sha256 or size != blob.size:
        raise BlobIntegrityError(f"blob {blob.pk} does not match its recorded SHA-256 and size")


@dataclass
class VerifiedContent:
    """Content checked in full; iterate to get its plaintext chunks."""

    blob: Blob
    _chunks: list[bytes] | None = field(default=None, repr=False)

    def __iter__(self) -> Iterator[bytes]:
        if self._chunks is not None:
            yield from self._chunks
            return
        # Second decryption of a large blob: still authenticated; a change since the first pass
        # stops the stream (the client sees a cut connection, never unauthenticated bytes).
        digest, size = hashlib.sha256(), 0
        for chunk in _decrypted_chunks(self.blob):
            digest.update(chunk)
            size += len(chunk)
            yield chunk
        try:
            _check(self.blob, digest.hexdigest(), size)
        except BlobIntegrityError:
            log.error("blob %s changed while being served", self.blob.pk)
            raise


def open_verified(blob: Blob) -> VerifiedContent:
    """Verify the whole blob; raise BlobIntegrityError (and log it) when it does not match."""
    digest, size = hashlib.sha256(), 0
    kept: list[bytes] | None = [] if blob.size <= SMALL_BLOB else None
    try:
        for chunk in _decrypted_chunks(blob):
            digest.update(chunk)
            size += len(chunk)
            if kept is not None:
                kept.append(chunk)
        _check(blob, digest.hexdigest(), size)
    except BlobIntegrityError as exc:
        log.error("integrity check failed, content not served: %s", exc)
        raise
    return VerifiedContent(blob, kept)
