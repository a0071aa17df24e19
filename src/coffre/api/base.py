"""The NinjaAPI of the e-Box REST interface: authentication, scopes, errors and the audit trail.

Every error is the contract's ``StatusMessage`` with a code, never an HTML page nor a bare 500.
Every call is audited as NOTES.md asks: successful reads, and all write attempts (a refused
publication too), with the SHA-256 of the token, never the token.
"""

import json
import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import Http404, HttpRequest
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer

from coffre.audit.services import Actor, record
from coffre.core.errors import status_message
from coffre.core.nul import nul_in
from coffre.mailbox.store import BlobIntegrityError
from coffre.oauth.errors import InvalidToken
from coffre.oauth.selectors import TokenContext, authenticate_bearer

log = logging.getLogger(__name__)

REGISTRY_ROOT = "REST/ebox/enterprise/messageRegistry/v2/"
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def invalid_input(message: str) -> ApiError:
    return ApiError(400, "INVALID_INPUT", message)


def not_found(what: str) -> ApiError:
    return ApiError(404, "NOT_FOUND", f"{what} not found.")


class EboxBearer(HttpBearer):
    """Bearer token of the e-Box scopes: 401 without a valid token, 403 without the scope."""

    def __init__(self, *scopes: str):
        super().__init__()
        self.scopes = frozenset(scopes)

    def __call__(self, request: HttpRequest) -> TokenContext:
        try:
            context = authenticate_bearer(request)
        except InvalidToken as exc:
            raise ApiError(
                401,
                "UNAUTHORIZED",
                f"A valid access token is required: {exc}.",
                {"WWW-Authenticate": 'Bearer error="invalid_token"'},
            ) from None
        request.token_context = context
        if not context.scopes & self.scopes:
            raise ApiError(
                403,
                "FORBIDDEN",
                f"The token lacks the scope this operation needs ({' or '.join(sorted(self.scopes))}).",
                {"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{" ".join(sorted(self.scopes))}"'},
            )
        return context

    def authenticate(self, request, token):  # HttpBearer's hook; __call__ does the work
        return None


def actor_of(request: HttpRequest) -> Actor:
    context: TokenContext | None = getattr(request, "token_context", None)
    return Actor(
        kind="api",
        name=context.client_id if context else "",
        token_sha256=context.token_sha256 if context else "",
        method=request.method,
        url=request.get_full_path(),
    )


class OperationBearer(EboxBearer):
    """``EboxBearer`` that names its operation for the audit trail: the feed and the submission
    share one URL, so the URL's name cannot tell them apart."""

    def __init__(self, operation: str, *scopes: str):
        super().__init__(*scopes)
        self.operation = operation

    def __call__(self, request: HttpRequest):
        request.operation_name = self.operation
        return super().__call__(request)


def operation_of(request: HttpRequest) -> str:
    named = getattr(request, "operation_name", None)  # set where one URL serves several operations
    if named:
        return named
    match = getattr(request, "resolver_match", None)
    return match.url_name if match and match.url_name else request.path


def audit_read(request: HttpRequest, details: dict | None = None, status: int = 200) -> None:
    """Record a successful read (own transaction unless one is open)."""
    with transaction.atomic():
        record(actor_of(request), operation_of(request), status=status, details=details)


def _audit_failure(request: HttpRequest, status: int, code: str) -> None:
    if request.method not in WRITE_METHODS:
        return  # NOTES.md: reads are audited when they succeed, writes always
    try:
        with transaction.atomic():
            record(actor_of(request), operation_of(request), status=status, details={"error": code})
    except Exception:  # never turn a client error into a server error
        log.exception("could not audit a refused %s", operation_of(request))


def error_response(request: HttpRequest, status: int, code: str, message: str, headers: dict | None = None):
    _audit_failure(request, status, code)
    return status_message(status, code, message, headers)


class JsonBodyParser(Parser):
    """JSON bodies without NUL characters (``coffre.core.nul``): ninja answers 400 to any error here."""

    def parse_body(self, request):
        data = json.loads(request.body)
        if nul_in(data, "body"):
            raise ValueError("a NUL character (\\u0000) is never accepted")
        return data


api = NinjaAPI(
    title="Coffre e-Box Enterprise Message Registry",
    version="2.1",
    description=(
        "The e-Box Enterprise REST API v2.1 (Message Registry: consultation and publication profiles), "
        f"under /{REGISTRY_ROOT}, and the event API 1.1.1 (feed and submission of document events) under "
        "/events-api/1.0.0/. Tokens: OAuth2 client credentials with private_key_jwt at /oauth2/token."
    ),
    docs_url="api/docs",
    openapi_url="api/openapi.json",
    urls_namespace="api",
    parser=JsonBodyParser(),
)


@api.exception_handler(ApiError)
def _api_error(request, exc: ApiError):
    return error_response(request, exc.status, exc.code, exc.message, exc.headers)


@api.exception_handler(ValidationError)
def _validation_error(request, exc: ValidationError):
    problems = []
    for error in exc.errors:
        location = ".".join(str(part) for part in error.get("loc", ())[1:]) or "request"
        problems.append(f"{location}: {error.get('msg', 'invalid')}")
    return error_response(request, 400, "INVALID_INPUT", "; ".join(problems) or "Invalid request.")


@api.exception_handler(AuthenticationError)
def _authentication_error(request, exc):
    return error_response(
        request, 401, "UNAUTHORIZED", "A valid access token is required.", {"WWW-Authenticate": "Bearer"}
    )


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    codes = {400: "INVALID_INPUT", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}
    return error_response(request, exc.status_code, codes.get(exc.status_code, "ERROR"), str(exc))


@api.exception_handler(Http404)
def _not_found(request, exc):
    return error_response(request, 404, "NOT_FOUND", "Not found.")


@api.exception_handler(RequestDataTooBig)
def _body_too_large(request, exc):
    # A JSON body over DATA_UPLOAD_MAX_MEMORY_SIZE, found when ninja reads it (was a 500).
    return error_response(
        request, 413, "REQUEST_TOO_LARGE",
        f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.",
    )


@api.exception_handler(BlobIntegrityError)
def _integrity_error(request, exc):
    # Already logged by the store; the content is never served.
    return status_message(500, "INTEGRITY_ERROR", "The stored content failed its integrity check and is not served.")


@api.exception_handler(Exception)
def _unexpected(request, exc):
    log.exception("unexpected error in %s %s", request.method, request.path)
    if settings.DEBUG:
        raise exc
    return status_message(500, "INTERNAL_ERROR", "An unexpected error occurred; it has been logged.")
