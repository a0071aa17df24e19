"""The password of a polled mailbox, sealed at rest with Coffre's envelope encryption.

Sealed by ``coffre.core.crypto`` under the master keyring with a purpose of its own
(``intake/imap-password/v1``): a key derived for documents never opens a password, and the other
way round. ``seal`` / ``unseal`` never log and never put the password in an exception message.
"""

import io

from coffre.core.crypto import DecryptionError, EncryptingWriter, decrypt_stream
from coffre.core.keys import keyring

PURPOSE = b"intake/imap-password/v1"


class CredentialError(Exception):
    """A sealed password does not open (changed, or sealed under a key that is not configured)."""


def seal(password: str) -> bytes:
    sink = io.BytesIO()
    writer = EncryptingWriter(sink, keyring(), PURPOSE)
    writer.write(password.encode("utf-8"))
    writer.close()
    return sink.getvalue()


def unseal(sealed: bytes) -> str:
    try:
        return b"".join(decrypt_stream(io.BytesIO(bytes(sealed)), keyring(), PURPOSE)).decode("utf-8")
    except (DecryptionError, UnicodeDecodeError):
        raise CredentialError(
            "the stored IMAP password cannot be opened with the configured master keys"
        ) from None


def unseal_or_none(sealed: bytes) -> str | None:
    """The password, or None when it no longer opens (then it is simply replaced)."""
    try:
        return unseal(sealed)
    except CredentialError:
        return None
