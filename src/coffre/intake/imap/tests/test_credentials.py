"""IMAP passwords sealed at rest under a purpose of their own."""

import io

import pytest

from coffre.core.crypto import DecryptionError, decrypt_stream
from coffre.core.keys import keyring
from coffre.intake.imap import credentials
from coffre.mailbox.store import PURPOSE as DOCUMENTS


def test_sealed_passwords_open_again_and_do_not_show():
    sealed = credentials.seal("s3cr3t-ünïcode")

    assert b"s3cr3t" not in sealed and "s3cr3t-ünïcode".encode() not in sealed
    assert credentials.unseal(sealed) == "s3cr3t-ünïcode"
    assert credentials.seal("s3cr3t-ünïcode") != sealed  # a data key of its own each time


def test_the_documents_key_does_not_open_a_password():
    sealed = credentials.seal("s3cr3t")

    with pytest.raises(DecryptionError):
        b"".join(decrypt_stream(io.BytesIO(sealed), keyring(), DOCUMENTS))


def test_a_changed_seal_is_refused_without_revealing_anything():
    sealed = bytearray(credentials.seal("s3cr3t"))
    sealed[-1] ^= 1

    with pytest.raises(credentials.CredentialError) as error:
        credentials.unseal(bytes(sealed))
    assert "s3cr3t" not in str(error.value)
    assert credentials.unseal_or_none(bytes(sealed)) is None
