"""A Django upload handler that seals file parts into the document store while they arrive.

Install it on a request before its body is read (``request.upload_handlers = [...]``): every file
part is hashed and encrypted chunk by chunk into a spool file (``store.BlobWriter``), never held
whole in memory nor written in clear to disk. Parts named in ``memory_parts`` (a JSON description
sent as a file) are kept in memory up to ``memory_limit`` bytes instead.
"""

from django.core.files.uploadhandler import FileUploadHandler

from coffre.mailbox.store import BlobWriter, StagedContent


class PartTooLarge(Exception):
    def __init__(self, field_name: str, limit: int):
        super().__init__(f"part {field_name} is larger than {limit} bytes")
        self.field_name = field_name
        self.limit = limit


class SealedUpload:
    """What ``request.FILES`` holds for a sealed part."""

    def __init__(self, name: str, content_type: str, content: StagedContent):
        self.name = name
        self.content_type = content_type
        self.content = content
        self.size = content.size

    def close(self) -> None:
        # Django closes uploads when the request ends: a spool still here was never stored.
        self.content.discard()


class MemoryUpload:
    def __init__(self, name: str, content_type: str, data: bytes):
        self.name = name
        self.content_type = content_type
        self.data = data
        self.size = len(data)

    def close(self) -> None:
        pass


class SealingUploadHandler(FileUploadHandler):
    chunk_size = 64 * 1024

    def __init__(self, request=None, memory_parts: tuple[str, ...] = (), memory_limit: int = 2 * 1024 * 1024):
        super().__init__(request)
        self.memory_parts = memory_parts
        self.memory_limit = memory_limit
        self._writer: BlobWriter | None = None
        self._buffer: bytearray | None = None
        self.completed: list[SealedUpload] = []

    def new_file(self, field_name, file_name, content_type, content_length, charset=None, content_type_extra=None):
        super().new_file(field_name, file_name, content_type, content_length, charset, content_type_extra)
        if field_name in self.memory_parts:
            self._buffer = bytearray()
        else:
            self._writer = BlobWriter()

    def receive_data_chunk(self, raw_data, start):
        if self._buffer is not None:
            self._buffer += raw_data
            if len(self._buffer) > self.memory_limit:
                raise PartTooLarge(self.field_name, self.memory_limit)
        else:
            self._writer.write(raw_data)
        return None

    def file_complete(self, file_size):
        if self._buffer is not None:
            upload = MemoryUpload(self.file_name, self.content_type, bytes(self._buffer))
            self._buffer = None
            return upload
        upload = SealedUpload(self.file_name, self.content_type, self._writer.finish())
        self._writer = None
        self.completed.append(upload)
        return upload

    def upload_interrupted(self):
        self.discard_all()

    def discard_all(self) -> None:
        """Remove every spool of this request (a refused or broken request)."""
        if self._writer is not None:
            self._writer.abort()
            self._writer = None
        for upload in self.completed:
            upload.close()
