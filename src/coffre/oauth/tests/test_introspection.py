"""RFC 7662 introspection of a client's own tokens (server.CoffreIntrospectionEndpoint)."""

import datetime

import pytest

from coffre.audit.models import AuditRecord
from coffre.audit.services import token_hash
from coffre.oauth import scopes
from coffre.oauth.models import AccessToken
from coffre.oauth.testing import ASSERTION_TYPE, ISSUER, issue_token

pytestmark = pytest.mark.django_db


def introspect(http, credentials, token, **extra):
    data = {
        "token": token,
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": credentials.assertion(),
        **extra,
    }
    return http.post("/oauth2/introspect", {k: v for k, v in data.items() if v is not None}, secure=True)


@pytest.fixture
def alice(make_client):
    return make_client(scopes=[scopes.SUMMARY_OWN, scopes.MESSAGES_FULL])


@pytest.fixture
def charlie(make_client, enterprise_b, rsa_keys):
    return make_client(enterprise=enterprise_b, key=rsa_keys[1])


def test_own_token_is_active_with_the_cbe_of_the_clients_enterprise(client, alice, enterprise_a):
    token = issue_token(client, alice)
    response = introspect(client, alice, token)

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    stored = AccessToken.objects.get()
    assert body == {
        "active": True,
        "client_id": alice.client_id,
        "scope": f"{scopes.SUMMARY_OWN} {scopes.MESSAGES_FULL}",
        "exp": int(stored.expires_at.timestamp()),
        "iat": int(stored.issued_at.timestamp()),
        "token_type": "Bearer",
        "sub": alice.client_id,
        "iss": ISSUER,
        "principalAttributes": {"urn:be:fgov:kbo-bce:organization:cbe-number": enterprise_a.cbe},
    }
    assert len(enterprise_a.cbe) == 10


def test_another_clients_token_is_inactive(client, alice, charlie):
    alices_token = issue_token(client, alice)
    assert introspect(client, charlie, alices_token).json() == {"active": False}
    # ... and still active for its owner.
    assert introspect(client, alice, alices_token).json()["active"] is True


def test_expired_token_is_inactive(client, alice):
    token = issue_token(client, alice)
    AccessToken.objects.update(expires_at=datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=1))
    assert introspect(client, alice, token).json() == {"active": False}


def test_revoked_token_is_inactive(client, alice):
    token = issue_token(client, alice)
    AccessToken.objects.update(revoked=True)
    assert introspect(client, alice, token).json() == {"active": False}


def test_unknown_token_is_inactive(client, alice):
    assert introspect(client, alice, "no-such-token").json() == {"active": False}


def test_token_type_hint_is_only_a_hint(client, alice):
    token = issue_token(client, alice)
    assert introspect(client, alice, token, token_type_hint="refresh_token").json()["active"] is True


def test_missing_token_parameter(client, alice):
    response = introspect(client, alice, None)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_caller_must_authenticate_with_private_key_jwt(client, alice):
    token = issue_token(client, alice)
    response = client.post("/oauth2/introspect", {"token": token}, secure=True)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    response = client.post(
        "/oauth2/introspect",
        {
            "token": token,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": alice.assertion(aud="https://evil"),
        },
        secure=True,
    )
    assert response.status_code == 401


def test_the_introspection_assertion_is_used_once_too(client, alice):
    token = issue_token(client, alice)
    assertion = alice.assertion()
    data = {"token": token, "client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion}
    assert client.post("/oauth2/introspect", data, secure=True).status_code == 200
    assert client.post("/oauth2/introspect", data, secure=True).status_code == 401


def test_plain_http_off_loopback_is_refused(client, alice):
    response = client.post("/oauth2/introspect", {"token": "x"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_successful_introspection_is_audited(client, alice):
    token = issue_token(client, alice)
    introspect(client, alice, token)
    entry = AuditRecord.objects.filter(action="oauth.introspect").get()
    assert entry.actor == alice.client_id
    assert entry.details == {"token_sha256": token_hash(token), "active": True}
