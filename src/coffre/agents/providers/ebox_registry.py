"""A client of an e-Box Enterprise Message Registry (REST v2.1) for the DocConsumer agent.

``RegistryClient`` holds one sync's HTTP client (httpx) and access token: it gets the token from
the OAuth2 token endpoint with the client-credentials grant and ``private_key_jwt`` client
authentication (RFC 7523: an RS256 JWT signed by the key of the registered certificate, iss = sub
= the client id, aud = the authorization server's audience, a short exp and a random jti, signed
by Authlib through ``coffre.oauth.assertions``, the same client side as ``coffre client
assertion``), then GETs the registry's operations with it, and turns every HTTP outcome into the
agent errors of ``coffre.agents.sdk``:

- token endpoint ``invalid_client`` / ``invalid_grant`` (401, 400) -> ``LoginFailed``;
- ``invalid_scope``, ``unauthorized_client``, and 403 from the registry (scope missing,
  DocConsumer not enabled) -> ``UserActionNeeded(CONTACT_PROVIDER)``;
- 5xx, 429, timeouts, refused connections -> ``VendorDown``;
- anything that breaks the contract (not JSON, a redirect, an unexpected status) ->
  ``UnknownAgentError`` with a technical message.

Never logs, and never puts in a message, the private key, an assertion or a token. Plain HTTP is
used with this machine only (loopback), as Coffre's own token endpoint requires; redirects are not
followed (a token is never sent to another host than the one configured).
"""

import json
import logging
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from coffre.agents.providers.tls import verifying_context
from coffre.agents.sdk import LoginFailed, UnknownAgentError, UserAction, UserActionNeeded, VendorDown
from coffre.core.net import is_loopback
from coffre.oauth.assertions import sign_assertion
from coffre.oauth.scopes import MESSAGES_FULL, REFERENCE_DATA

logger = logging.getLogger("coffre.agents.docconsumer")

#: The official registry (production), as its integration documentation gives it.
OFFICIAL_REGISTRY = "https://services.socialsecurity.be/REST/ebox/enterprise/messageRegistry/v2/"
#: Registry host -> (token endpoint, audience of the client assertions) of the official e-Box.
OFFICIAL_AUTHORIZATION = {
    "services.socialsecurity.be": (
        "https://services.socialsecurity.be/REST/oauth/v3/token",
        "https://oauth.socialsecurity.be",
    ),
    "services-acpt.socialsecurity.be": (
        "https://services-acpt.socialsecurity.be/REST/oauth/v3/token",
        "https://oauthacc.socialsecurity.be",
    ),
}
#: RFC 8414 metadata, where the token endpoint of another registry (a Coffre instance) is found.
METADATA_PATH = "/.well-known/oauth-authorization-server"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: Asked first; a client without reference data still reads its messages (names fall back to ids).
SCOPES = (f"{MESSAGES_FULL} {REFERENCE_DATA}", MESSAGES_FULL)
ASSERTION_LIFETIME = 120  # seconds: one assertion per token request
TOKEN_MARGIN = 30  # seconds: a token this close to its end is renewed first
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
MAX_CONTENT = 100 * 1024 * 1024  # bytes of one attachment
_TEXT_LIMIT = 200


@dataclass(frozen=True)
class Endpoints:
    registry: str  # the root, ending with a slash
    token: str  # "" until found in the registry host's metadata
    audience: str  # "" means the token endpoint's URL


@dataclass(frozen=True)
class Answer:
    """An HTTP answer read whole (its content decoded already)."""

    status_code: int
    headers: httpx.Headers
    content: bytes

    def json(self):
        return json.loads(self.content)


def checked_url(url: str, what: str) -> str:
    """``url`` when it is https, or http to this machine; else ``LoginFailed`` (the person fixes it)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LoginFailed(f"the {what} is not an http(s) address")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise LoginFailed(f"the {what} must use https (plain http is only allowed to this machine)")
    if parts.username or parts.password:
        raise LoginFailed(f"the {what} must not hold a user name or password")
    return url


def endpoints(registry: str, token: str, audience: str) -> Endpoints:
    """The endpoints of a connection: an empty registry is the official one; an empty token
    endpoint is the official one's for an official registry, else found in the registry host's
    metadata (``RegistryClient.discover``); an empty audience is the official one's, else the
    token endpoint's URL (RFC 7523; Coffre accepts it, or its issuer)."""
    registry = (registry or "").strip() or OFFICIAL_REGISTRY
    if not registry.endswith("/"):
        registry += "/"  # the root URL ends with a slash (NOTES.md)
    checked_url(registry, "registry address")
    official = OFFICIAL_AUTHORIZATION.get(urlsplit(registry).hostname or "")
    token = (token or "").strip() or (official[0] if official else "")
    if token:
        checked_url(token, "token endpoint")
    if not (audience or "").strip() and official and token == official[0]:
        audience = official[1]
    return Endpoints(registry, token, (audience or "").strip())


def _short(text: object) -> str:
    """A server's text, on one line and short, for a technical message."""
    return " ".join(str(text).split())[:_TEXT_LIMIT]


def _host(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)


class RegistryClient:
    """One sync's conversation with a registry (see the module's doc). Use as a context manager."""

    def __init__(self, where: Endpoints, client_id: str, private_key):
        self.where = where
        self.client_id = client_id
        self._key = private_key  # a joserfc RSAKey; never printed
        self._http = httpx.Client(timeout=TIMEOUT, follow_redirects=False, verify=verifying_context())
        self._token = ""
        self._token_until = 0.0
        self.scopes: frozenset[str] = frozenset()  # what the token was granted

    def __enter__(self) -> "RegistryClient":
        return self

    def __exit__(self, *exc_info) -> None:
        self._http.close()

    # --- transport ---------------------------------------------------------------------------------

    def _send(self, method: str, url: str, limit: int = MAX_CONTENT, **kwargs) -> Answer:
        """The answer, read whole (at most ``limit`` bytes); transport failures as ``VendorDown``."""
        request = self._http.build_request(method, url, **kwargs)
        try:
            response = self._http.send(request, stream=True)
            try:
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > limit:
                        raise UnknownAgentError(
                            f"{method} {urlsplit(url).path}: the answer is larger than {limit} bytes"
                        )
            finally:
                response.close()
        except httpx.TimeoutException:
            raise VendorDown(f"{_host(url)} did not answer in time ({method} {urlsplit(url).path})") from None
        except httpx.ConnectError as exc:
            raise VendorDown(f"cannot connect to {_host(url)}: {_short(exc) or 'connection failed'}") from None
        except httpx.TransportError as exc:
            raise VendorDown(f"the connection to {_host(url)} failed: {type(exc).__name__}") from None
        return Answer(response.status_code, response.headers, bytes(body))

    @staticmethod
    def _vendor_down_or_unexpected(response: Answer, what: str) -> None:
        status = response.status_code
        if status >= 500 or status == 429:
            raise VendorDown(f"{what}: the server answered {status}")
        if 300 <= status < 400:
            raise UnknownAgentError(
                f"{what}: the server answered a redirect ({status}) to "
                f"{_short(response.headers.get('location', '?'))}; configure the final address"
            )

    @staticmethod
    def _json(response: Answer, what: str):
        try:
            return response.json()
        except ValueError:
            kind = response.headers.get("content-type", "no content type")
            raise UnknownAgentError(f"{what}: the answer is not JSON ({_short(kind)})") from None

    # --- OAuth2 ------------------------------------------------------------------------------------

    def discover(self) -> None:
        """The token endpoint from the registry host's RFC 8414 metadata (a Coffre instance)."""
        if self.where.token:
            return
        parts = urlsplit(self.where.registry)
        url = f"{parts.scheme}://{parts.netloc}{METADATA_PATH}"
        what = f"the authorization server metadata of {_host(url)}"
        response = self._send("GET", url, headers={"Accept": "application/json"})
        self._vendor_down_or_unexpected(response, what)
        if response.status_code != 200:
            raise LoginFailed(
                f"{what} is not available ({response.status_code}): give the token endpoint's address"
            )
        body = self._json(response, what)
        token = body.get("token_endpoint") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise UnknownAgentError(f"{what} names no token_endpoint")
        self.where = Endpoints(self.where.registry, checked_url(token, "token endpoint"), self.where.audience)

    def authenticate(self) -> None:
        """An access token for reading messages (with reference data when the client has it)."""
        self.discover()
        refusal = None
        for scope in SCOPES:
            refusal = self._request_token(scope)
            if refusal is None:
                return
        raise UserActionNeeded(
            UserAction.CONTACT_PROVIDER,
            "the token endpoint refused the scope for reading messages "
            f"({refusal}): give the webservice account the DocConsumer permission "
            f"({MESSAGES_FULL}) at the e-Box side",
        )

    def _request_token(self, scope: str) -> str | None:
        """Asks a token with ``scope``: None when granted, the error when the scope is refused."""
        url = self.where.token
        assertion = sign_assertion(
            self.client_id, self._key, self.where.audience or url, lifetime=ASSERTION_LIFETIME
        )
        data = {
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion,
            "scope": scope,
        }
        response = self._send("POST", url, data=data, headers={"Accept": "application/json"})
        what = f"the token endpoint {_host(url)}"
        self._vendor_down_or_unexpected(response, what)
        if response.status_code == 200:
            body = self._json(response, what)
        else:  # an error: RFC 6749 JSON, or a gateway's page
            try:
                body = response.json()
            except ValueError:
                body = {}
        if not isinstance(body, dict):
            raise UnknownAgentError(f"{what}: the answer is not a JSON object")
        if response.status_code == 200:
            token = body.get("access_token")
            if not isinstance(token, str) or not token:
                raise UnknownAgentError(f"{what}: the answer has no access_token")
            lifetime = body.get("expires_in")
            lifetime = lifetime if isinstance(lifetime, int | float) and lifetime > 0 else 300
            self._token, self._token_until = token, time.monotonic() + lifetime
            granted = body.get("scope")
            self.scopes = frozenset((granted if isinstance(granted, str) else scope).split())
            return None
        error = _short(body.get("error", "")) or f"status {response.status_code}"
        description = _short(body.get("error_description", ""))
        detail = f"{error}: {description}" if description else error
        if error in ("invalid_client", "invalid_grant") or response.status_code == 401:
            raise LoginFailed(f"{what} refused the client {self.client_id} ({detail})")
        if error == "invalid_scope":
            return detail
        if error in ("unauthorized_client", "access_denied") or response.status_code == 403:
            raise UserActionNeeded(
                UserAction.CONTACT_PROVIDER,
                f"{what} does not let the client {self.client_id} read messages ({detail}): "
                "enable DocConsumer for the webservice account at the e-Box side",
            )
        raise UnknownAgentError(f"{what} answered {response.status_code} ({detail})")

    # --- the registry's operations ---------------------------------------------------------------------

    def _get(self, path: str, params: dict | None, accept: str) -> Answer:
        url = urljoin(self.where.registry, path)
        for _attempt in (1, 2):
            if not self._token or time.monotonic() > self._token_until - TOKEN_MARGIN:
                self.authenticate()
            response = self._send(
                "GET", url, params=params, headers={"Authorization": f"Bearer {self._token}", "Accept": accept}
            )
            if response.status_code != 401:
                return response
            self._token = ""  # expired or revoked meanwhile: one new token, then give up
        raise LoginFailed(f"the registry {_host(url)} refused a fresh access token (401)")

    def _refusal(self, response: Answer, path: str) -> None:
        """Raise the agent error of an answer other than 200."""
        what = f"GET {path}"
        self._vendor_down_or_unexpected(response, what)
        status = response.status_code
        if status == 403:
            raise UserActionNeeded(
                UserAction.CONTACT_PROVIDER,
                f"the registry refused {what} (403: {self._status_text(response)}): the webservice "
                "account needs the DocConsumer permission (scope messagesfull) for this e-Box",
            )
        raise UnknownAgentError(f"{what}: the registry answered {status} ({self._status_text(response)})")

    @staticmethod
    def _status_text(response: Answer) -> str:
        """The contract's StatusMessage ``code: message``, when the answer is one."""
        try:
            body = response.json()
        except ValueError:
            return "no StatusMessage"
        if isinstance(body, dict) and (body.get("code") or body.get("message")):
            return _short(f"{body.get('code', '')}: {body.get('message', '')}")
        return "no StatusMessage"

    def get_json(self, path: str, params: dict | None = None, *, optional: bool = False, absent: str = ""):
        """The JSON of ``GET path`` (relative to the registry root). With ``optional``, None for a
        404 or 403 (reference data, a body that does not exist); with ``absent``, a 404 asks the
        person to contact the provider, saying ``absent``."""
        response = self._get(path, params, "application/json")
        if response.status_code == 200:
            return self._json(response, f"GET {path}")
        if optional and response.status_code in (403, 404):
            return None
        if absent and response.status_code == 404:
            raise UserActionNeeded(
                UserAction.CONTACT_PROVIDER, f"GET {path}: {absent} (404: {self._status_text(response)})"
            )
        self._refusal(response, path)
        return None  # not reached: _refusal raises

    def get_content(self, path: str) -> bytes:
        """The bytes of ``GET path`` (an attachment's content), at most ``MAX_CONTENT``."""
        response = self._get(path, None, "*/*")
        if response.status_code != 200:
            self._refusal(response, path)
        return response.content
