"""Authlib glue: the OAuth2 authorization server of Coffre.

What Authlib does: the token endpoint's protocol (RFC 6749 client-credentials grant, errors of
section 5.2), the JWT client-assertion flow (RFC 7523), introspection (RFC 7662) and the shape
of the metadata document (RFC 8414). What this module adds: the webservice clients and tokens
of ``coffre.oauth.models`` behind Authlib's client and token interfaces, ``private_key_jwt``
verified with the public key of the client's X.509 certificate (RS256 only, audience = issuer
or token endpoint, one use per ``jti``, a bounded lifetime), the audit of every token request,
and the CBE number of the client's enterprise in introspection answers.

Error descriptions go back to the caller: they never contain the assertion, a token or a key.
"""

import datetime
import functools
import logging
import secrets

from authlib.consts import default_json_headers
from authlib.integrations.django_oauth2 import AuthorizationServer as DjangoAuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.base import invalid_error_characters
from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin, grants
from authlib.oauth2.rfc6749.errors import (
    InsecureTransportError,
    InvalidClientError,
    InvalidRequestError,
    InvalidScopeError,
    UnsupportedGrantTypeError,
)
from authlib.oauth2.rfc6749.hooks import hooked
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7523.client import ASSERTION_TYPE
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from django.conf import settings
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    JoseError,
    MissingAlgorithmError,
    MissingClaimError,
    UnsupportedAlgorithmError,
)

from coffre.audit.services import token_hash
from coffre.core.nul import NUL
from coffre.oauth import selectors, services
from coffre.oauth.certificates import verification_key
from coffre.oauth.errors import CertificateError, ScopeNotAllowed
from coffre.oauth.models import AccessToken, WebserviceClient
from coffre.oauth.scopes import ALL_SCOPES, granted_scopes

log = logging.getLogger(__name__)

AUTH_METHOD = "private_key_jwt"
SIGNING_ALGORITHMS = ["RS256"]
GRANT_TYPE = "client_credentials"
#: Clock skew tolerated on ``exp``, ``nbf`` and ``iat`` of client assertions, in seconds.
ASSERTION_LEEWAY = 60
#: The introspection attribute that names the enterprise of the token ("own e-Box").
CBE_ATTRIBUTE = "urn:be:fgov:kbo-bce:organization:cbe-number"
_MAX_JTI = 255
# RFC 6749 section 3.2: parameters of a token request must not be repeated.
_SINGLE_PARAMETERS = ("grant_type", "scope", "client_id", "client_assertion", "client_assertion_type")


# --- public URLs -----------------------------------------------------------------------------------


def issuer(request) -> str:
    """The issuer identifier: ``COFFRE_BASE_URL`` when set, else the request's scheme and host."""
    return settings.COFFRE_BASE_URL or f"{request.scheme}://{request.get_host()}"


def endpoint_url(request, name: str) -> str:
    """Absolute URL of one of our endpoints (``oauth:token`` ...), under ``COFFRE_BASE_URL`` if set."""
    path = reverse(name)
    if settings.COFFRE_BASE_URL:
        return settings.COFFRE_BASE_URL + "/" + path.removeprefix(get_script_prefix())
    return request.build_absolute_uri(path)


def assertion_audiences(request) -> list[str]:
    """What a client assertion's ``aud`` may be: the issuer or the token endpoint URL, with or
    without a trailing slash (clients configure the root URL ending with a slash)."""
    audiences = []
    for url in (issuer(request), endpoint_url(request, "oauth:token")):
        bare = url.rstrip("/")
        audiences += [bare, bare + "/"]
    return list(dict.fromkeys(audiences))


def authorization_server_metadata(request) -> AuthorizationServerMetadata:
    """The RFC 8414 document served at ``/.well-known/oauth-authorization-server``."""
    return AuthorizationServerMetadata(
        {
            "issuer": issuer(request),
            "token_endpoint": endpoint_url(request, "oauth:token"),
            "introspection_endpoint": endpoint_url(request, "oauth:introspect"),
            "grant_types_supported": [GRANT_TYPE],
            "token_endpoint_auth_methods_supported": [AUTH_METHOD],
            "token_endpoint_auth_signing_alg_values_supported": SIGNING_ALGORITHMS,
            "introspection_endpoint_auth_methods_supported": [AUTH_METHOD],
            "introspection_endpoint_auth_signing_alg_values_supported": SIGNING_ALGORITHMS,
            "scopes_supported": list(ALL_SCOPES),
            # No authorization endpoint: no response type is supported.
            "response_types_supported": [],
        }
    )


# --- errors ----------------------------------------------------------------------------------------


def _safe(text: str, limit: int = 300) -> str:
    """An error description RFC 6749 accepts (printable ASCII without quote and backslash)."""
    bad = set(invalid_error_characters(text))
    return "".join("?" if char in bad else char for char in text)[:limit]


class ClientAuthenticationError(InvalidClientError):
    """``invalid_client``, always 401 (RFC 6749 section 5.2).

    No ``WWW-Authenticate`` header: section 5.2 asks for one matching the scheme the client used
    in the ``Authorization`` header, and ``private_key_jwt`` does not use that header (Authlib
    would announce ``Basic``, which we do not accept). ``reason`` is for the audit trail.
    """

    status_code = 401

    def __init__(self, description: str, reason: str | None = None):
        super().__init__(description=_safe(description), status_code=401)
        self.reason = reason or description

    def get_headers(self):
        return default_json_headers[:]


# --- Authlib's view of our models --------------------------------------------------------------------


class OAuthClient(ClientMixin):
    """A ``WebserviceClient`` as Authlib sees it: confidential, client credentials only."""

    def __init__(self, model: WebserviceClient):
        self.model = model
        self.client_id = model.client_id

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return None

    def check_redirect_uri(self, redirect_uri):
        return False

    def check_response_type(self, response_type):
        return False

    def check_client_secret(self, client_secret):
        return False

    def check_endpoint_auth_method(self, method, endpoint):
        return method == AUTH_METHOD

    def check_grant_type(self, grant_type):
        return grant_type == GRANT_TYPE

    def get_allowed_scope(self, scope):
        try:
            return " ".join(granted_scopes(self.model.scopes, scope))
        except ScopeNotAllowed as exc:
            raise InvalidScopeError(_safe(exc.message)) from None


class OAuthToken(TokenMixin):
    def __init__(self, model: AccessToken):
        self.model = model

    def check_client(self, client):
        return self.model.client_id == client.model.pk

    def get_scope(self):
        return " ".join(self.model.scopes)

    def get_expires_in(self):
        return int((self.model.expires_at - self.model.issued_at).total_seconds())

    def is_expired(self):
        return self.model.expires_at <= timezone.now()

    def is_revoked(self):
        client = self.model.client
        return self.model.revoked or not client.active or not client.enterprise.active

    def get_client(self):
        return OAuthClient(self.model.client)

    def get_user(self):
        return None


# --- private_key_jwt ---------------------------------------------------------------------------------


class PrivateKeyJWTAuthentication(JWTBearerClientAssertion):
    """RFC 7523 section 2.2 client authentication, for one request.

    Authlib's flow reads the assertion's ``sub``, looks the client up and calls, in order,
    ``resolve_client_public_key`` and ``process_assertion_claims``. We check, in this order: the
    RS256 signature against the registered certificate, the certificate's validity window, that
    the client and its enterprise are active, then the claims. Only someone holding the private
    key learns why a well-signed assertion was refused.
    """

    CLIENT_AUTH_METHOD = AUTH_METHOD

    def __init__(self, audiences: list[str]):
        super().__init__(validate_jti=True, leeway=ASSERTION_LEEWAY)
        self.audiences = audiences
        self.now = timezone.now()
        self.client: WebserviceClient | None = None

    def get_audiences(self):
        return self.audiences

    def resolve_client_public_key(self, client: OAuthClient):
        self.client = client.model
        try:
            self.certificate, key = verification_key(client.model.certificate_pem)
        except CertificateError as exc:  # only if the stored certificate was changed behind our back
            raise ClientAuthenticationError(
                "The client's registered certificate is not usable.", reason=f"stored certificate: {exc}"
            ) from None
        return key

    def process_assertion_claims(self, assertion, resolve_key):
        try:
            token = jwt.decode(assertion, resolve_key, algorithms=SIGNING_ALGORITHMS)
        except (UnsupportedAlgorithmError, MissingAlgorithmError) as exc:
            raise ClientAuthenticationError(
                "The client assertion must be signed with RS256.",
                reason=f"algorithm refused: {exc.description}",
            ) from None
        except BadSignatureError:
            raise ClientAuthenticationError(
                "The client assertion is not signed by the key of the client's registered certificate.",
                reason="bad signature",
            ) from None
        except JoseError as exc:
            raise ClientAuthenticationError(
                "The client assertion is not a valid signed JWT.", reason=f"invalid JWT: {exc.error}"
            ) from None
        if not self.certificate.valid_at(self.now):
            raise ClientAuthenticationError(
                "The client's registered certificate is not valid now (valid from "
                f"{self.certificate.not_before:%Y-%m-%dT%H:%M:%SZ} "
                f"to {self.certificate.not_after:%Y-%m-%dT%H:%M:%SZ}).",
                reason="certificate outside its validity window",
            )
        if not self.client.active:
            raise ClientAuthenticationError(
                "The webservice client has been revoked.", reason="client inactive"
            )
        if not self.client.enterprise.active:
            raise ClientAuthenticationError(
                "The enterprise of this client is deactivated.", reason="enterprise inactive"
            )
        self.verify_claims(token.claims)
        return token.claims

    def verify_claims(self, claims):
        client_id = self.client.client_id
        registry = jwt.JWTClaimsRegistry(
            now=int(self.now.timestamp()),
            leeway=self.leeway,
            iss={"essential": True, "value": client_id},
            sub={"essential": True, "value": client_id},
            aud={"essential": True, "values": self.get_audiences()},
            exp={"essential": True},
            jti={"essential": True},
        )
        try:
            registry.validate(claims)
        except ExpiredTokenError:
            raise ClientAuthenticationError(
                "The client assertion has expired (exp).", reason="assertion expired"
            ) from None
        except MissingClaimError as exc:
            raise ClientAuthenticationError(
                f"The client assertion lacks the claim(s) {exc.claim}.", reason=f"missing claim {exc.claim}"
            ) from None
        except JoseError as exc:
            claim = getattr(exc, "claim", "")
            if claim == "aud":
                description = (
                    "The audience (aud) of the client assertion must be the issuer or the token "
                    "endpoint URL: " + " or ".join(a for a in self.audiences if not a.endswith("/")) + "."
                )
            elif claim in ("iss", "sub"):
                description = "The claims iss and sub of the client assertion must both be the client id."
            else:
                description = f"The client assertion is not acceptable: {exc.description}."
            raise ClientAuthenticationError(
                description, reason=f"claim {claim or '?'}: {exc.description}"
            ) from None
        self._check_lifetime(claims)
        jti = claims["jti"]
        if len(jti) > _MAX_JTI:
            raise ClientAuthenticationError(
                f"The jti of the client assertion is longer than {_MAX_JTI} characters.",
                reason="jti too long",
            )
        if NUL in jti:  # PostgreSQL cannot store it (coffre.core.nul)
            raise ClientAuthenticationError(
                "The jti of the client assertion contains a NUL character.", reason="jti with NUL"
            )
        usable_until = datetime.datetime.fromtimestamp(claims["exp"] + self.leeway, tz=datetime.UTC)
        if not services.consume_assertion(self.client, jti, usable_until):
            raise ClientAuthenticationError(
                "This client assertion was already used (jti): sign a new one for each request.",
                reason="jti replayed",
            )

    def _check_lifetime(self, claims):
        maximum = settings.COFFRE_ASSERTION_MAX_LIFETIME
        now = self.now.timestamp()
        issued_at = claims.get("iat")
        start = issued_at if issued_at is not None else now
        if claims["exp"] - start > maximum or claims["exp"] - now > maximum + self.leeway:
            raise ClientAuthenticationError(
                f"The client assertion lives longer than {maximum} seconds: sign short-lived assertions.",
                reason="assertion lifetime too long",
            )


def authenticate_private_key_jwt(query_client, request):
    """Authlib client-auth method ``private_key_jwt``: the only one this server accepts."""
    form = request.form
    assertion_type = form.get("client_assertion_type")
    if not form.get("client_assertion"):
        raise ClientAuthenticationError(
            f"Client authentication is required: send client_assertion_type={ASSERTION_TYPE} and a "
            "client_assertion signed RS256 by the key of the client's certificate (private_key_jwt).",
            reason="no client assertion",
        )
    if assertion_type != ASSERTION_TYPE:
        raise ClientAuthenticationError(
            f"client_assertion_type must be {ASSERTION_TYPE}.", reason="unsupported client_assertion_type"
        )

    def query(client_id):
        request.claimed_client_id = client_id  # unverified, for the audit of a refusal
        return query_client(client_id)

    client = PrivateKeyJWTAuthentication(assertion_audiences(request.http_request))(query, request)
    named = form.get("client_id")
    if named is not None and named != client.client_id:
        raise ClientAuthenticationError(
            "The client_id parameter does not match the client assertion.",
            reason="client_id does not match the assertion",
        )
    return client


# --- grant and endpoints -----------------------------------------------------------------------------


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = [AUTH_METHOD]

    def validate_token_request(self):
        datalist = self.request.payload.datalist
        repeated = [name for name in _SINGLE_PARAMETERS if len(datalist.get(name, ())) > 1]
        if repeated:
            raise InvalidRequestError(f"Repeated parameter: {', '.join(repeated)}.")
        super().validate_token_request()

    def validate_requested_scope(self):
        # Subset of the client's scopes (the server-wide check of Authlib knows no client).
        self.request.client.get_allowed_scope(self.request.payload.scope)

    @hooked
    def create_token_response(self):
        # Authlib's, without its debug log line that would print the access token.
        token = self.generate_token(scope=self.request.payload.scope, include_refresh_token=False)
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER


class CoffreIntrospectionEndpoint(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = [AUTH_METHOD]

    def check_params(self, request, client):
        # token_type_hint is only a hint (RFC 7662 section 2.1): we issue access tokens only.
        if not request.form.get("token"):
            raise InvalidRequestError("The token parameter is missing.")

    def query_token(self, token_string, token_type_hint):
        token = selectors.token_by_value(token_string)
        return OAuthToken(token) if token is not None else None

    def check_permission(self, token, client, request):
        return token.check_client(client)  # a client introspects its own tokens only

    def introspect_token(self, token):
        model = token.model
        return {
            "active": True,
            "client_id": model.client.client_id,
            "scope": token.get_scope(),
            "exp": int(model.expires_at.timestamp()),
            "iat": int(model.issued_at.timestamp()),
            "token_type": "Bearer",
            "sub": model.client.client_id,
            "principalAttributes": {CBE_ATTRIBUTE: model.client.enterprise.cbe},
        }

    def create_endpoint_response(self, request):
        client = self.authenticate_endpoint_client(request)
        token = self.authenticate_token(request, client)
        body = self.create_introspection_payload(token)
        if body["active"]:
            body["iss"] = issuer(request.http_request)
        services.record_introspection(
            client_id=client.client_id,
            token_sha256=token_hash(request.form["token"]),
            active=body["active"],
            url=request.http_request.get_full_path(),
        )
        return 200, body, default_json_headers


class AuthorizationServer(DjangoAuthorizationServer):
    def __init__(self):
        super().__init__(WebserviceClient, AccessToken)
        self.scopes_supported = list(ALL_SCOPES)
        self.register_client_auth_method(AUTH_METHOD, authenticate_private_key_jwt)
        self.register_grant(ClientCredentialsGrant)
        self.register_endpoint(CoffreIntrospectionEndpoint)

    def create_bearer_token_generator(self):
        return BearerTokenGenerator(
            access_token_generator=lambda **_: secrets.token_urlsafe(32),
            # Read at each request, so that a changed setting (and a test) takes effect.
            expires_generator=lambda client, grant_type: settings.COFFRE_TOKEN_LIFETIME,
        )

    def query_client(self, client_id):
        if len(client_id) > 64 or NUL in client_id:  # no such client id; PostgreSQL cannot compare NUL
            return None
        model = selectors.client_for_authentication(client_id)
        return OAuthClient(model) if model is not None else None

    def save_token(self, token, request):
        return services.save_access_token(
            request.client.model,
            token["access_token"],
            token.get("scope", "").split(),
            token["expires_in"],
            url=request.http_request.get_full_path(),
        )

    def create_oauth2_request(self, request):
        oauth_request = super().create_oauth2_request(request)
        oauth_request.http_request = request
        return oauth_request

    def authenticate_client(self, request, methods, endpoint="token"):
        try:
            client = super().authenticate_client(request, methods, endpoint)
        except ClientAuthenticationError:
            raise
        except InvalidClientError as exc:
            # Authlib's own refusals (unreadable JWT, no sub, unknown client): 401 all the same.
            raise ClientAuthenticationError(exc.description or "Client authentication failed.") from None
        request.authenticated_client_id = client.client_id
        return client

    def get_token_grant(self, request):
        try:
            return super().get_token_grant(request)
        except UnsupportedGrantTypeError as exc:
            exc.description = _safe(
                f"The grant_type {request.payload.grant_type} is not supported: use {GRANT_TYPE}."
            )
            raise

    def create_token_response(self, request=None):
        try:
            oauth_request = self.create_oauth2_request(request)
        except InsecureTransportError:
            error = _https_required()
            _audit_refusal(status=400, error=error.error, reason="plain HTTP", url=request.get_full_path())
            return self.handle_response(*error())
        try:
            if not oauth_request.payload.grant_type:
                raise InvalidRequestError("The grant_type parameter is missing.")
            grant = self.get_token_grant(oauth_request)
            grant.validate_token_request()
            response = self.handle_response(*grant.create_token_response())
        except OAuth2Error as error:
            _audit_refusal(
                status=error.status_code,
                error=error.error,
                reason=getattr(error, "reason", None) or error.get_error_description() or error.error,
                client_id=getattr(oauth_request, "authenticated_client_id", ""),
                claimed_client_id=_text(getattr(oauth_request, "claimed_client_id", "")),
                url=request.get_full_path(),
            )
            return self.handle_error_response(oauth_request, error)
        return response

    def create_endpoint_response(self, name, request=None):
        try:
            return super().create_endpoint_response(name, request)
        except InsecureTransportError:
            return self.handle_response(*_https_required()())


def _audit_refusal(**refusal) -> None:
    try:
        services.record_token_refusal(**refusal)
    except Exception:  # as the API does: a refusal must not become a server error
        log.exception("could not audit a refused token request")


def _https_required() -> InvalidRequestError:
    return InvalidRequestError(
        "OAuth2 requires HTTPS; plain HTTP is accepted on the loopback interface only."
    )


def _text(value) -> str:
    """An unverified claim as audit text (the audit is stored as jsonb: no NUL there)."""
    return value.replace(NUL, "\ufffd") if isinstance(value, str) else ""


@functools.cache
def authorization_server() -> AuthorizationServer:
    return AuthorizationServer()
