"""Refuse oversized requests before their body is read."""

from django.conf import settings

from coffre.core.errors import status_message


class RequestSizeLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.COFFRE_MAX_REQUEST_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return status_message(400, "INVALID_INPUT", "Content-Length is not a number.")
        if length > limit:
            return status_message(
                413, "REQUEST_TOO_LARGE", f"The request is larger than the limit of {limit} bytes."
            )
        return self.get_response(request)
