"""Test helpers for anything that needs a webservice client and its tokens (oauth, api, ...).

Real RSA keys and self-signed X.509 certificates made with ``cryptography``; real assertions
posted to the real token endpoint. Use the fixtures by re-exporting them from a ``conftest.py``
(``from coffre.oauth.testing import *``) or with ``pytest_plugins = ["coffre.oauth.testing"]`` in
the root conftest; use the plain functions anywhere.
"""

import base64
import datetime
import json
import uuid
from dataclasses import dataclass

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from joserfc import jwt
from joserfc.jwk import RSAKey

from coffre.accounts.models import Enterprise
from coffre.accounts.services import register_enterprise
from coffre.audit.services import Actor
from coffre.core.cbe import make_cbe
from coffre.oauth import services
from coffre.oauth.models import WebserviceClient
from coffre.oauth.scopes import ALL_SCOPES

__all__ = [
    "ASSERTION_TYPE",
    "ISSUER",
    "TOKEN_URL",
    "ClientCredentials",
    "b64url",
    "build_assertion",
    "certificate_pem",
    "enterprise_a",
    "enterprise_b",
    "issue_token",
    "make_client",
    "make_enterprise",
    "new_rsa_key",
    "private_key_pem",
    "request_token",
    "rsa_keys",
]

#: Issuer and token endpoint as the Django test client sees them with ``secure=True``.
ISSUER = "https://testserver"
TOKEN_URL = ISSUER + "/oauth2/token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def new_rsa_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def certificate_pem(
    key,
    *,
    common_name: str = "coffre test client",
    not_before: datetime.datetime | None = None,
    not_after: datetime.datetime | None = None,
) -> str:
    """A self-signed certificate for ``key``, by default valid from yesterday for two years, so that
    a test moving the clock a month or a year ahead can still get tokens."""
    now = datetime.datetime.now(datetime.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - datetime.timedelta(days=1))
        .not_valid_after(not_after or now + datetime.timedelta(days=730))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


def private_key_pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@dataclass
class ClientCredentials:
    """A registered client and what its software holds: the private key and the certificate."""

    client: WebserviceClient
    private_key: rsa.RSAPrivateKey
    certificate_pem: str

    @property
    def client_id(self) -> str:
        return self.client.client_id

    @property
    def jwk(self) -> RSAKey:
        return RSAKey.import_key(private_key_pem(self.private_key))

    def assertion(self, audience: str = TOKEN_URL, **overrides) -> str:
        return build_assertion(self.client_id, self.jwk, audience, **overrides)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def build_assertion(
    client_id: str,
    key,
    audience: str = TOKEN_URL,
    *,
    header: dict | None = None,
    now: int | None = None,
    lifetime: int = 300,
    **overrides,
) -> str:
    """A client assertion; ``overrides`` replace claims, and a claim set to None is left out.

    ``key`` is a joserfc key (``RSAKey``; an ``OctKey`` with ``header={"alg": "HS256"}``);
    ``header={"alg": "none"}`` gives an unsigned token, built by hand since no library signs one.
    """
    issued_at = int(datetime.datetime.now(datetime.UTC).timestamp()) if now is None else now
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": issued_at,
        "exp": issued_at + lifetime,
        "jti": str(uuid.uuid4()),
    }
    claims.update(overrides)
    claims = {name: value for name, value in claims.items() if value is not None}
    header = header or {"alg": "RS256"}
    if header["alg"] == "none":
        parts = [json.dumps({"typ": "JWT", **header}).encode(), json.dumps(claims).encode()]
        return ".".join(b64url(part) for part in parts) + "."
    return jwt.encode(header, claims, key, algorithms=[header["alg"]])


def make_enterprise(first_eight: int, name: str) -> Enterprise:
    """A registered enterprise (with its e-Box), its CBE number built from eight digits."""
    return register_enterprise(make_cbe(first_eight), name, Actor.cli("test")).enterprise


def request_token(http, assertion: str | None, **params):
    """POST a client-credentials token request with a client assertion, over HTTPS."""
    data = {"grant_type": "client_credentials", **params}
    if assertion is not None:
        data.setdefault("client_assertion_type", ASSERTION_TYPE)
        data["client_assertion"] = assertion
    data = {name: value for name, value in data.items() if value is not None}
    return http.post("/oauth2/token", data, secure=True)


def issue_token(http, credentials: ClientCredentials, **params) -> str:
    """A real access token for ``credentials`` from the token endpoint (fails the test if refused)."""
    response = request_token(http, credentials.assertion(), **params)
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


@pytest.fixture(scope="session")
def rsa_keys():
    """Three distinct 2048-bit keys, made once per session (key generation is slow)."""
    return [new_rsa_key() for _ in range(3)]


@pytest.fixture
def enterprise_a(db):
    """Alice's enterprise."""
    return make_enterprise(2_000_001, "Alice & Co")


@pytest.fixture
def enterprise_b(db):
    """Charlie's enterprise."""
    return make_enterprise(3_000_002, "Charlie SRL")


@pytest.fixture
def make_client(db, rsa_keys, enterprise_a):
    """``make_client(enterprise=A, scopes=ALL, key=rsa_keys[0], name="")`` -> ClientCredentials."""

    def make(enterprise=None, scopes=ALL_SCOPES, key=None, name="", **certificate_options):
        key = key or rsa_keys[0]
        pem = certificate_pem(key, **certificate_options)
        client, _ = services.create_client(
            (enterprise or enterprise_a).cbe, pem, list(scopes), name, Actor.cli("test")
        )
        return ClientCredentials(client=client, private_key=key, certificate_pem=pem)

    return make
