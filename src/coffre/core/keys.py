"""The master keyring, from the environment or from a key file created on first run.

Several processes start at once on a first run (the web server's workers, the task worker), and
each may be the first to need the key: the file appears complete or not at all. It is written
whole to a temporary file, synced, then linked under its name; a process that loses the race
reads the winner's key, never an empty or half-written file.
"""

import functools
import os
import threading

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from coffre.core.crypto import Keyring, MasterKey


def _load_or_create_key_file(path) -> MasterKey:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = MasterKey.generate()
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(key.to_b64() + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(temporary, path)  # never replaces a key another process made first
            except FileExistsError:
                pass  # another process won: read theirs below
            else:
                _sync_directory(path.parent)
                return key
        finally:
            os.unlink(temporary)
    try:
        return MasterKey.from_b64(path.read_text(encoding="ascii"))
    except ValueError as exc:
        raise ImproperlyConfigured(f"master key file {path}: {exc}") from None


def _sync_directory(directory) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@functools.cache
def keyring() -> Keyring:
    try:
        if settings.COFFRE_MASTER_KEY:
            current = MasterKey.from_b64(settings.COFFRE_MASTER_KEY)
        else:
            current = _load_or_create_key_file(settings.COFFRE_MASTER_KEY_PATH)
        retired = tuple(MasterKey.from_b64(text) for text in settings.COFFRE_RETIRED_MASTER_KEYS)
    except ValueError as exc:
        raise ImproperlyConfigured(f"COFFRE_MASTER_KEY: {exc}") from None
    return Keyring(current, retired)
