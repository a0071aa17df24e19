"""Envelope encryption of streams (documents at rest, later agent credentials).

Each stream gets its own random 256-bit data key, wrapped (RFC 3394 AES key wrap) by a
key-encryption key derived with HKDF from the master key for one purpose, so that documents and
credentials never share a key. The content is cut into segments encrypted with AES-256-GCM in the
STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár 2015): nonce = prefix || counter || last
flag, the header as associated data. Reordering, truncation, extension or a changed byte of any
segment or of the header makes decryption fail; nothing is ever returned unauthenticated.

This module must never log or put in an exception message a key or a plaintext byte.
"""

import base64
import functools
import hashlib
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

MAGIC = b"CFE1"
SEGMENT_SIZE = 64 * 1024
_TAG = 16
_PREFIX = 7
# magic, key id, wrapped data key (40), nonce prefix, segment size
_HEADER = struct.Struct(">4s8s40s7sI")
HEADER_SIZE = _HEADER.size
MAX_SEGMENTS = 2**32 - 1


class DecryptionError(Exception):
    """The ciphertext is not authentic (changed, truncated, wrong key) or not ours."""


class UnknownKeyError(DecryptionError):
    """The stream was sealed under a master key that is not configured."""


@dataclass(frozen=True)
class MasterKey:
    """A 256-bit master secret; ``key_id`` names it in every header it seals."""

    secret: bytes

    def __post_init__(self):
        if len(self.secret) != 32:
            raise ValueError("a master key is 32 bytes")

    def __repr__(self):  # never show the secret
        return f"MasterKey(id={self.key_id.hex()})"

    @property
    def key_id(self) -> bytes:
        return hashlib.sha256(b"coffre key id" + self.secret).digest()[:8]

    def kek(self, purpose: bytes) -> bytes:
        return _derived_kek(self.secret, purpose)

    @classmethod
    def from_b64(cls, text: str) -> "MasterKey":
        try:
            raw = base64.b64decode(text.strip(), validate=True)
        except (ValueError, TypeError):
            raise ValueError("the master key is not valid base64") from None
        return cls(raw)

    @classmethod
    def generate(cls) -> "MasterKey":
        return cls(os.urandom(32))

    def to_b64(self) -> str:
        return base64.b64encode(self.secret).decode("ascii")


@functools.lru_cache(maxsize=64)
def _derived_kek(secret: bytes, purpose: bytes) -> bytes:
    # Derived once per process and purpose: every blob written or read needs it, and HKDF went
    # through OpenSSL's shared state each time, contended between threads (docs/benchmarks.md).
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"coffre/" + purpose).derive(secret)


class Keyring:
    """The current master key (seals) and retired ones (still open what they sealed)."""

    def __init__(self, current: MasterKey, retired: tuple[MasterKey, ...] = ()):
        self.current = current
        self._by_id = {key.key_id: key for key in (current, *retired)}

    def get(self, key_id: bytes) -> MasterKey:
        try:
            return self._by_id[key_id]
        except KeyError:
            raise UnknownKeyError("sealed under a master key that is not configured") from None


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    return prefix + struct.pack(">I", counter) + (b"\x01" if last else b"\x00")


class EncryptingWriter:
    """Write plaintext in, sealed segments out to ``sink``; ``close()`` seals the last one."""

    def __init__(self, sink: BinaryIO, keyring: Keyring, purpose: bytes, segment_size: int = SEGMENT_SIZE):
        self._sink = sink
        self._segment_size = segment_size
        data_key = AESGCM.generate_key(bit_length=256)
        self._aead = AESGCM(data_key)
        self._prefix = os.urandom(_PREFIX)
        master = keyring.current
        self._header = _HEADER.pack(
            MAGIC, master.key_id, aes_key_wrap(master.kek(purpose), data_key), self._prefix, segment_size
        )
        self._buffer = bytearray()
        self._counter = 0
        self._closed = False
        self.ciphertext_size = 0
        self._emit(self._header)

    def _emit(self, data: bytes) -> None:
        self._sink.write(data)
        self.ciphertext_size += len(data)

    def _seal(self, chunk: bytes, last: bool) -> None:
        if self._counter >= MAX_SEGMENTS:
            raise ValueError("stream too long")
        self._emit(self._aead.encrypt(_nonce(self._prefix, self._counter, last), chunk, self._header))
        self._counter += 1

    def write(self, data: bytes) -> None:
        if self._closed:
            raise ValueError("write to a closed EncryptingWriter")
        self._buffer += data
        size = self._segment_size
        # Keep at least one byte back: the last segment is only known at close().
        while len(self._buffer) > size:
            self._seal(bytes(self._buffer[:size]), last=False)
            del self._buffer[:size]

    def close(self) -> None:
        if not self._closed:
            self._seal(bytes(self._buffer), last=True)
            self._buffer.clear()
            self._closed = True


def _read_exactly(source: BinaryIO, size: int) -> bytes:
    parts = []
    while size:
        part = source.read(size)
        if not part:
            break
        parts.append(part)
        size -= len(part)
    return b"".join(parts)


def decrypt_stream(source: BinaryIO, keyring: Keyring, purpose: bytes) -> Iterator[bytes]:
    """Yield the plaintext segment by segment; raise DecryptionError at the first bad byte."""
    header = _read_exactly(source, HEADER_SIZE)
    if len(header) != HEADER_SIZE:
        raise DecryptionError("truncated header")
    magic, key_id, wrapped, prefix, segment_size = _HEADER.unpack(header)
    if magic != MAGIC or not 0 < segment_size <= 16 * 1024 * 1024:
        raise DecryptionError("not a Coffre encrypted stream")
    master = keyring.get(key_id)
    try:
        data_key = aes_key_unwrap(master.kek(purpose), wrapped)
    except InvalidUnwrap:
        raise DecryptionError("the data key does not unwrap") from None
    aead = AESGCM(data_key)
    sealed_size = segment_size + _TAG
    counter = 0
    current = _read_exactly(source, sealed_size)
    while True:
        following = _read_exactly(source, sealed_size)
        last = not following
        try:
            yield aead.decrypt(_nonce(prefix, counter, last), current, header)
        except Exception:  # cryptography raises InvalidTag; never chain plaintext details
            raise DecryptionError(f"segment {counter} is not authentic") from None
        if last:
            return
        counter += 1
        current = following


def sealed_size(plaintext_size: int, segment_size: int = SEGMENT_SIZE) -> int:
    segments = max(1, -(-plaintext_size // segment_size))
    return HEADER_SIZE + plaintext_size + segments * _TAG
