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


#: Paths of the interfaces that software calls: their errors are StatusMessage JSON, never HTML.
MACHINE_PREFIXES = ("/REST/", "/events-api/", "/oauth2/", "/.well-known/", "/api/")
CODES = {
    400: "INVALID_INPUT", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED",
    411: "LENGTH_REQUIRED", 413: "REQUEST_TOO_LARGE", 500: "INTERNAL_ERROR",
}


def is_machine_path(path: str) -> bool:
    return path.startswith(MACHINE_PREFIXES)


def code_for(status: int) -> str:
    return CODES.get(status, "ERROR")
