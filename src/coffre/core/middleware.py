"""Refuse bad requests early: oversized ones before their body is read, and NUL characters in
URLs and forms before they reach the database (see ``coffre.core.nul``); and keep every error
answer of the machine interfaces a StatusMessage, whoever produced it.

Django reads a request body up to its Content-Length only, so a chunked body without one would
look empty: it is refused with 411 rather than misread.
"""

from django.conf import settings

from coffre.core.errors import code_for, is_machine_path, status_message
from coffre.core.nul import NUL


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


class NulCharacterMiddleware:
    """Refuse a NUL character (``%00``) in the path, the query string or a URL-encoded form (400).

    Multipart bodies are left alone (read later, as a stream, by the upload handlers: Django drops
    non-printable characters from file names) and JSON bodies are checked where they are parsed.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        where = None
        if NUL in request.path:
            where = "the path"
        elif any(NUL in key or any(NUL in value for value in values) for key, values in request.GET.lists()):
            where = "the query string"
        elif request.content_type == "application/x-www-form-urlencoded" and any(
            NUL in key or any(NUL in value for value in values) for key, values in request.POST.lists()
        ):
            where = "the form"
        if where:
            return status_message(400, "INVALID_INPUT", f"A NUL character (%00) in {where} is never accepted.")
        return self.get_response(request)


class StatusMessageErrorMiddleware:
    """Error answers of the machine interfaces are StatusMessage JSON, never an HTML page.

    The API's own errors already are; this covers what answers around the views: the 405 of an
    unsupported method (django-ninja, ``require_POST``) and Django's own 400 pages (a form body
    over ``DATA_UPLOAD_MAX_MEMORY_SIZE``, a disallowed host). People's pages are left alone.
    """

    KEPT_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After", "Connection")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code < 400
            or not is_machine_path(request.path)
            or response.get("Content-Type", "").startswith("application/json")
        ):
            return response
        message = response.reason_phrase + "."
        if response.status_code == 405 and response.has_header("Allow"):
            message = f"Method {request.method} not allowed here; allowed: {response['Allow']}."
        replacement = status_message(response.status_code, code_for(response.status_code), message)
        for header in self.KEPT_HEADERS:
            if response.has_header(header):
                replacement[header] = response[header]
        return replacement
