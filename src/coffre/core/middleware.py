"""Refuse oversized requests before their body is read.

Django reads a request body up to its Content-Length only, so a chunked body without one would
look empty: it is refused with 411 rather than misread.
"""

from django.conf import settings

from coffre.core.errors import status_message


class RequestSizeLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.COFFRE_MAX_REQUEST_BYTES
        raw_length = request.META.get("CONTENT_LENGTH")
        if not raw_length and "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            return status_message(411, "LENGTH_REQUIRED", "Send the request with a Content-Length.")
        try:
            length = int(raw_length or 0)
        except ValueError:
            return status_message(400, "INVALID_INPUT", "Content-Length is not a number.")
        if length > limit:
            response = status_message(
                413, "REQUEST_TOO_LARGE", f"The request is larger than the limit of {limit} bytes."
            )
            response["Connection"] = "close"
            return response
        return self.get_response(request)
