"""RFC 8414 authorization server metadata at /.well-known/oauth-authorization-server."""

from urllib.parse import urlsplit

import pytest

from coffre.oauth import scopes
from coffre.oauth.testing import ASSERTION_TYPE, build_assertion

pytestmark = pytest.mark.django_db


def test_metadata_document(client):
    response = client.get("/.well-known/oauth-authorization-server", secure=True)
    assert response.status_code == 200
    assert response.json() == {
        "issuer": "https://testserver",
        "token_endpoint": "https://testserver/oauth2/token",
        "introspection_endpoint": "https://testserver/oauth2/introspect",
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "introspection_endpoint_auth_methods_supported": ["private_key_jwt"],
        "introspection_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "scopes_supported": list(scopes.ALL_SCOPES),
        "response_types_supported": [],
    }


def test_issuer_is_the_configured_base_url(client, settings):
    settings.COFFRE_BASE_URL = "https://coffre.example.be"
    body = client.get("/.well-known/oauth-authorization-server").json()
    assert body["issuer"] == "https://coffre.example.be"
    assert body["token_endpoint"] == "https://coffre.example.be/oauth2/token"
    assert body["introspection_endpoint"] == "https://coffre.example.be/oauth2/introspect"


def test_a_client_finds_the_token_endpoint_and_audience_there(client, make_client):
    alice = make_client()
    metadata = client.get("/.well-known/oauth-authorization-server", secure=True).json()
    token_path = urlsplit(metadata["token_endpoint"]).path
    for audience in (metadata["issuer"], metadata["token_endpoint"]):
        response = client.post(
            token_path,
            {
                "grant_type": metadata["grant_types_supported"][0],
                "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": build_assertion(alice.client_id, alice.jwk, audience),
            },
            secure=True,
        )
        assert response.status_code == 200


def test_post_is_not_allowed(client):
    assert client.post("/.well-known/oauth-authorization-server", secure=True).status_code == 405
