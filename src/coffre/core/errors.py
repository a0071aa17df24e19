"""The contract's error body, ``StatusMessage``: ``{"id": uuid, "code": ..., "message": ...}``.

Used by the API and by the middleware that guards every entry point, so that no client of the
REST interface ever sees an HTML error page.
"""

import uuid

from django.conf import settings
from django.http import JsonResponse


def status_message_body(code: str, message: str) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "code": code,
        "message": message,
        "environment": settings.COFFRE_ENVIRONMENT,
    }


def status_message(status: int, code: str, message: str, headers: dict | None = None) -> JsonResponse:
    response = JsonResponse(status_message_body(code, message), status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response
