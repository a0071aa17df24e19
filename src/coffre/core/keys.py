"""The master keyring, from the environment or from a key file created on first run."""

import functools
import os

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from coffre.core.crypto import Keyring, MasterKey


def _load_or_create_key_file(path) -> MasterKey:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = MasterKey.generate()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # created meanwhile by another process: read theirs
        else:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(key.to_b64() + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            return key
    try:
        return MasterKey.from_b64(path.read_text(encoding="ascii"))
    except ValueError as exc:
        raise ImproperlyConfigured(f"master key file {path}: {exc}") from None


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
