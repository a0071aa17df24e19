"""Reads of webservice clients and tokens, including the bearer check of every API call.

``authenticate_bearer`` is the one entry point the API uses: it turns the ``Authorization``
header into a ``TokenContext`` (who calls, for which enterprise, with which scopes) or raises
``InvalidToken``. It runs on every API call, so it is one query on the unique index of the
token hash, joined to the client and its enterprise, written in SQL (``coffre.core.rows``):
the ORM took ten times longer to build it than the database to answer it.
"""

import datetime
import re
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from coffre.accounts.models import Enterprise
from coffre.audit.services import token_hash
from coffre.core import rows
from coffre.core.cbe import InvalidCBE, normalize_cbe
from coffre.oauth.errors import InvalidToken, UnknownClient, UnknownEnterprise
from coffre.oauth.models import AccessToken, WebserviceClient

# RFC 6750 section 2.1: b64token. Tokens we issue are far shorter than the bound.
_BEARER = re.compile(r"Bearer +([A-Za-z0-9\-._~+/]{1,512}=*) *", re.IGNORECASE)


_TOKEN_SQL = """
    SELECT c."client_id", c."active", c."enterprise_id", e."cbe", e."active", t."scopes", t."expires_at", t."revoked"
    FROM "oauth_accesstoken" t
    JOIN "oauth_webserviceclient" c ON c."id" = t."client_id"
    JOIN "accounts_enterprise" e ON e."id" = c."enterprise_id"
    WHERE t."token_sha256" = %s
"""
_TOKEN_FIELDS = (
    rows.field(WebserviceClient, "client_id"),
    rows.field(WebserviceClient, "active"),
    None,
    rows.field(Enterprise, "cbe"),
    rows.field(Enterprise, "active"),
    rows.field(AccessToken, "scopes"),
    rows.field(AccessToken, "expires_at"),
    rows.field(AccessToken, "revoked"),
)


@dataclass(frozen=True)
class TokenContext:
    """The caller of an API request, as its access token designates it."""

    client_id: str
    enterprise_cbe: str  # 10 digits: "own e-Box" is the e-Box of this enterprise
    enterprise_id: int
    scopes: frozenset[str]
    token_sha256: str
    expires_at: datetime.datetime


def authenticate_bearer(request) -> TokenContext:
    """The ``TokenContext`` of the request's ``Authorization: Bearer`` token, or ``InvalidToken``.

    Refused: no header, a header that is not a bearer token, a token unknown, expired or
    revoked, or one whose client or enterprise has been deactivated since it was issued.
    """
    header = request.META.get("HTTP_AUTHORIZATION")
    if not header:
        raise InvalidToken("the Authorization header is missing")
    match = _BEARER.fullmatch(header)
    if match is None:
        raise InvalidToken("the Authorization header is not of the form 'Bearer <access token>'")
    digest = token_hash(match.group(1))
    row = rows.fetch_one(_TOKEN_SQL, [digest], _TOKEN_FIELDS)
    if row is None:
        raise InvalidToken("the access token is unknown")
    client_id, client_active, enterprise_id, cbe, enterprise_active, scopes, expires_at, revoked = row
    if revoked:
        raise InvalidToken("the access token has been revoked")
    if expires_at <= timezone.now():
        raise InvalidToken("the access token has expired")
    if not client_active:
        raise InvalidToken("the webservice client of this token has been revoked")
    if not enterprise_active:
        raise InvalidToken("the enterprise of this token is deactivated")
    return TokenContext(
        client_id=client_id,
        enterprise_cbe=cbe,
        enterprise_id=enterprise_id,
        scopes=frozenset(scopes),
        token_sha256=digest,
        expires_at=expires_at,
    )


def client_for_authentication(client_id: str) -> WebserviceClient | None:
    """The client named by an assertion (active or not: the caller decides), with its enterprise."""
    return WebserviceClient.objects.select_related("enterprise").filter(client_id=client_id).first()


def token_by_value(access_token: str) -> AccessToken | None:
    """The stored token for a token string (introspection), with its client and enterprise."""
    return (
        AccessToken.objects.select_related("client__enterprise")
        .filter(token_sha256=token_hash(access_token))
        .first()
    )


def get_client(client_id: str) -> WebserviceClient:
    client = client_for_authentication(client_id)
    if client is None:
        raise UnknownClient(f"no webservice client {client_id!r}")
    return client


def list_clients(enterprise_cbe: str | None = None) -> QuerySet[WebserviceClient]:
    """Every client, or those of one enterprise (CBE in any printed form)."""
    clients = WebserviceClient.objects.select_related("enterprise")
    if enterprise_cbe is not None:
        try:
            number = normalize_cbe(enterprise_cbe, lenient=True)
        except InvalidCBE as exc:
            raise UnknownEnterprise(str(exc)) from None
        clients = clients.filter(enterprise__cbe=number)
    return clients.order_by("enterprise__cbe", "created_at", "client_id")
