"""Absolute links for the notification e-mails, made outside any request (nightly task, worker).

``COFFRE_BASE_URL`` in production; without it, the first address ``coffre run`` binds (as
``coffre demo`` prints it), so that a newcomer's outbox holds links that work on their machine.
"""

import os
from functools import lru_cache

from django.conf import settings
from django.urls import reverse


def base_url() -> str:
    if settings.COFFRE_BASE_URL:
        return settings.COFFRE_BASE_URL
    bind = (os.environ.get("COFFRE_BIND") or "127.0.0.1:8000").split(",")[0].strip()
    host, _, port = bind.rpartition(":")
    if bind.startswith(("unix:", "fd://")) or not host:
        return "http://127.0.0.1:8000"
    if host in ("0.0.0.0", "[::]", "::"):
        host = "127.0.0.1"
    return f"http://{host}:{port}"


def absolute(name: str, *args) -> str:
    return base_url() + reverse(name, args=args)


_SAMPLE_CBE = "0000000000"


def of_enterprise(name: str, cbe: str) -> str:
    """``absolute(name, cbe)`` without resolving the URL again for each of a night's enterprises."""
    return _pattern(name, base_url()).replace(_SAMPLE_CBE, cbe, 1)


@lru_cache(maxsize=32)
def _pattern(name: str, base: str) -> str:
    return base + reverse(name, args=[_SAMPLE_CBE])
