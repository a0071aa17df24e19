"""authenticate_bearer: the check every API call makes, and the other reads (selectors.py)."""

import datetime

import pytest
from django.test import RequestFactory

from coffre.audit.services import token_hash
from coffre.oauth import scopes, selectors
from coffre.oauth.errors import InvalidToken, UnknownClient, UnknownEnterprise
from coffre.oauth.models import AccessToken
from coffre.oauth.selectors import TokenContext, authenticate_bearer
from coffre.oauth.testing import issue_token

pytestmark = pytest.mark.django_db


def bearer(header: str | None):
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header}
    return RequestFactory().get("/REST/ebox/enterprise/messageRegistry/v2/ebox", **extra)


@pytest.fixture
def alice_token(client, make_client):
    alice = make_client(scopes=[scopes.SUMMARY_OWN, scopes.MESSAGES_FULL])
    return alice, issue_token(client, alice)


def test_valid_token_gives_the_context_of_the_caller(alice_token, enterprise_a, django_assert_num_queries):
    alice, token = alice_token
    with django_assert_num_queries(1):
        context = authenticate_bearer(bearer(f"Bearer {token}"))
    stored = AccessToken.objects.get()
    assert context == TokenContext(
        client_id=alice.client_id,
        enterprise_cbe=enterprise_a.cbe,
        enterprise_id=enterprise_a.pk,
        scopes=frozenset({scopes.SUMMARY_OWN, scopes.MESSAGES_FULL}),
        token_sha256=token_hash(token),
        expires_at=stored.expires_at,
    )
    with pytest.raises(AttributeError):
        context.client_id = "other"  # frozen


def test_the_scheme_is_case_insensitive(alice_token):
    _, token = alice_token
    assert authenticate_bearer(bearer(f"bearer {token}")).client_id.startswith("coffre-")


def test_context_carries_the_scopes_of_the_token_not_of_the_client(client, make_client):
    alice = make_client(scopes=[scopes.SUMMARY_OWN, scopes.MESSAGES_FULL])
    token = issue_token(client, alice, scope=scopes.SUMMARY_OWN)
    assert authenticate_bearer(bearer(f"Bearer {token}")).scopes == {scopes.SUMMARY_OWN}


def refused(header) -> str:
    with pytest.raises(InvalidToken) as caught:
        authenticate_bearer(bearer(header))
    return caught.value.reason


def test_missing_header():
    assert "missing" in refused(None)
    assert "missing" in refused("")


@pytest.mark.parametrize(
    "header",
    [
        "Basic YWxpY2U6c2VjcmV0",
        "Bearer",
        "Bearer ",
        "Bearer a b",
        "Token abc",
        "Bearer " + "a" * 600,
        "Bearer caf\u00e9",
    ],
)
def test_malformed_header(header):
    assert "Bearer <access token>" in refused(header)


def test_unknown_token(db):
    assert "unknown" in refused("Bearer not-a-token-we-issued")


def test_expired_token(alice_token):
    _, token = alice_token
    AccessToken.objects.update(expires_at=datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=1))
    assert "expired" in refused(f"Bearer {token}")


def test_revoked_token(alice_token):
    _, token = alice_token
    AccessToken.objects.update(revoked=True)
    assert "revoked" in refused(f"Bearer {token}")


def test_inactive_client(alice_token):
    alice, token = alice_token
    alice.client.active = False
    alice.client.save()
    assert "client" in refused(f"Bearer {token}")


def test_inactive_enterprise(alice_token, enterprise_a):
    _, token = alice_token
    enterprise_a.active = False
    enterprise_a.save()
    assert "enterprise" in refused(f"Bearer {token}")


def test_get_client_and_list_clients(make_client, enterprise_a, enterprise_b, rsa_keys):
    alice = make_client()
    charlie = make_client(enterprise=enterprise_b, key=rsa_keys[1])
    assert selectors.get_client(alice.client_id) == alice.client
    with pytest.raises(UnknownClient):
        selectors.get_client("coffre-nope")
    assert list(selectors.list_clients()) == [alice.client, charlie.client]
    assert list(
        selectors.list_clients(
            "BE " + enterprise_b.cbe[:4] + "." + enterprise_b.cbe[4:7] + "." + enterprise_b.cbe[7:]
        )
    ) == [charlie.client]
    with pytest.raises(UnknownEnterprise):
        selectors.list_clients("12345")
