import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coffre.core.crypto import (
    HEADER_SIZE,
    DecryptionError,
    EncryptingWriter,
    Keyring,
    MasterKey,
    UnknownKeyError,
    decrypt_stream,
    sealed_size,
)

KEYRING = Keyring(MasterKey(bytes(range(32))))
SEGMENT = 1024


def seal(data: bytes, keyring=KEYRING, purpose=b"test", chunk=333) -> bytes:
    sink = io.BytesIO()
    writer = EncryptingWriter(sink, keyring, purpose, segment_size=SEGMENT)
    for start in range(0, len(data), chunk):
        writer.write(data[start : start + chunk])
    writer.close()
    return sink.getvalue()


def unseal(sealed: bytes, keyring=KEYRING, purpose=b"test") -> bytes:
    return b"".join(decrypt_stream(io.BytesIO(sealed), keyring, purpose))


@settings(max_examples=60)
@given(st.binary(max_size=5 * SEGMENT), st.integers(min_value=1, max_value=3000))
def test_round_trip_whatever_the_sizes(data, chunk):
    sealed = seal(data, chunk=chunk)
    assert unseal(sealed) == data
    assert len(sealed) == sealed_size(len(data), SEGMENT)


@pytest.mark.parametrize("size", [0, 1, SEGMENT - 1, SEGMENT, SEGMENT + 1, 3 * SEGMENT])
def test_segment_boundaries(size):
    data = bytes(range(256)) * (size // 256 + 1)
    assert unseal(seal(data[:size])) == data[:size]


def test_plaintext_does_not_appear_in_the_ciphertext():
    data = b"CONFIDENTIAL-MARKER " * 200
    assert b"CONFIDENTIAL" not in seal(data)


@settings(max_examples=50)
@given(st.data())
def test_any_changed_byte_is_detected(data):
    sealed = bytearray(seal(b"x" * (3 * SEGMENT + 10)))
    position = data.draw(st.integers(min_value=0, max_value=len(sealed) - 1))
    sealed[position] ^= data.draw(st.integers(min_value=1, max_value=255))
    with pytest.raises(DecryptionError):
        unseal(bytes(sealed))


def test_truncation_at_a_segment_boundary_is_detected():
    sealed = seal(b"y" * (3 * SEGMENT + 10))
    cut = HEADER_SIZE + 2 * (SEGMENT + 16)
    with pytest.raises(DecryptionError):
        unseal(sealed[:cut])


def test_swapped_segments_are_detected():
    sealed = seal(bytes(range(256)) * 12)
    first = HEADER_SIZE
    second = first + SEGMENT + 16
    swapped = sealed[:first] + sealed[second : second + SEGMENT + 16] + sealed[first:second] + sealed[second + SEGMENT + 16 :]
    with pytest.raises(DecryptionError):
        unseal(swapped)


def test_a_segment_appended_is_detected():
    sealed = seal(b"z" * (2 * SEGMENT + 5))
    with pytest.raises(DecryptionError):
        unseal(sealed + sealed[HEADER_SIZE : HEADER_SIZE + SEGMENT + 16])


def test_another_master_key_cannot_open():
    sealed = seal(b"secret")
    with pytest.raises(UnknownKeyError):
        unseal(sealed, keyring=Keyring(MasterKey.generate()))


def test_a_retired_key_still_opens_what_it_sealed():
    old = MasterKey.generate()
    sealed = seal(b"archive", keyring=Keyring(old))
    assert unseal(sealed, keyring=Keyring(MasterKey.generate(), (old,))) == b"archive"


def test_purposes_use_separate_keys():
    with pytest.raises(DecryptionError):
        unseal(seal(b"document", purpose=b"documents"), purpose=b"credentials")


def test_the_master_key_is_never_shown():
    key = MasterKey(b"\x01" * 32)
    assert key.to_b64() not in repr(key)
    assert "\\x01" not in repr(key)
