"""The token endpoint: client-credentials grant with private_key_jwt (server.py, views.py)."""

import datetime
import hashlib
import hmac
import json
import logging
import time

import pytest
from cryptography.hazmat.primitives import serialization
from django.test import Client
from joserfc.jwk import OctKey

from coffre.audit.models import AuditRecord
from coffre.audit.services import token_hash
from coffre.oauth import scopes
from coffre.oauth.models import AccessToken, UsedAssertion
from coffre.oauth.testing import (
    ISSUER,
    TOKEN_URL,
    b64url,
    build_assertion,
    certificate_pem,
    new_rsa_key,
    request_token,
)

pytestmark = pytest.mark.django_db


def assert_refused(response, error, status, reason=None):
    """The RFC 6749 error answer; ``reason``: the audited reason, to be sure which check refused."""
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"] == error
    assert "access_token" not in body
    assert response["Cache-Control"] == "no-store"
    assert "WWW-Authenticate" not in response
    if reason is not None:
        entry = AuditRecord.objects.filter(action="oauth.token").latest("seq")
        assert (entry.status, entry.details["error"]) == (status, error)
        assert reason in entry.details["reason"]
    return body


# --- success -----------------------------------------------------------------------------------------


def test_full_flow_issues_an_opaque_bearer_token_and_stores_only_its_hash(client, make_client, settings):
    settings.COFFRE_TOKEN_LIFETIME = 900
    alice = make_client()
    response = request_token(client, alice.assertion())

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["scope"].split() == list(scopes.ALL_SCOPES)
    stored = AccessToken.objects.get()
    assert stored.token_sha256 == token_hash(body["access_token"])
    assert body["access_token"] not in {stored.token_sha256, *map(str, stored.scopes)}
    assert stored.client == alice.client
    assert (stored.expires_at - stored.issued_at) == datetime.timedelta(seconds=900)


def test_the_issuance_is_audited_with_scopes_and_token_hash(client, make_client):
    alice = make_client(scopes=[scopes.MESSAGES_FULL])
    assertion = alice.assertion()
    body = request_token(client, assertion).json()

    entry = AuditRecord.objects.filter(action="oauth.token").get()
    assert (entry.actor_kind, entry.actor, entry.status, entry.method) == (
        "api",
        alice.client_id,
        200,
        "POST",
    )
    assert entry.url == "/oauth2/token"
    assert entry.details["scopes"] == [scopes.MESSAGES_FULL]
    assert entry.details["token_sha256"] == token_hash(body["access_token"])
    assert body["access_token"] not in str(entry.details)
    assert assertion not in str(entry.details)


@pytest.mark.parametrize("audience", [ISSUER, ISSUER + "/", TOKEN_URL, TOKEN_URL + "/", [TOKEN_URL, "other"]])
def test_audience_may_be_the_issuer_or_the_token_endpoint(client, make_client, audience):
    alice = make_client()
    assert request_token(client, alice.assertion(aud=audience)).status_code == 200


def test_audience_follows_coffre_base_url_when_set(client, make_client, settings):
    settings.COFFRE_BASE_URL = "https://coffre.example.be"
    alice = make_client()
    assert request_token(client, alice.assertion("https://coffre.example.be/oauth2/token")).status_code == 200
    assert request_token(client, alice.assertion("https://coffre.example.be")).status_code == 200
    assert_refused(request_token(client, alice.assertion(TOKEN_URL)), "invalid_client", 401)


def test_scope_absent_gives_all_the_clients_scopes(client, make_client):
    alice = make_client(scopes=[scopes.REFERENCE_DATA, scopes.SUMMARY_OWN])
    body = request_token(client, alice.assertion()).json()
    assert body["scope"].split() == [scopes.SUMMARY_OWN, scopes.REFERENCE_DATA]


def test_scope_subset_gives_exactly_the_requested_scopes(client, make_client):
    alice = make_client(scopes=[scopes.SUMMARY_OWN, scopes.MESSAGES_FULL, scopes.REFERENCE_DATA])
    response = request_token(
        client, alice.assertion(), scope=f"{scopes.REFERENCE_DATA} {scopes.MESSAGES_FULL}"
    )
    assert response.status_code == 200
    assert response.json()["scope"].split() == [scopes.MESSAGES_FULL, scopes.REFERENCE_DATA]
    assert AccessToken.objects.get().scopes == [scopes.MESSAGES_FULL, scopes.REFERENCE_DATA]


def test_assertion_expired_within_the_leeway_is_still_accepted(client, make_client):
    alice = make_client()
    now = int(time.time())
    assertion = alice.assertion(iat=now - 100, exp=now - 30)
    assert request_token(client, assertion).status_code == 200


def test_plain_http_is_accepted_on_loopback(client, make_client):
    alice = make_client()
    response = client.post(
        "/oauth2/token",
        {
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": alice.assertion("http://127.0.0.1:8000/oauth2/token"),
        },
        HTTP_HOST="127.0.0.1:8000",
    )
    assert response.status_code == 200, response.content


def test_the_client_id_parameter_may_repeat_the_assertions_client(client, make_client):
    alice = make_client()
    assert request_token(client, alice.assertion(), client_id=alice.client_id).status_code == 200


# --- refusals of client authentication (401 invalid_client) ---------------------------------------------


def test_wrong_key(client, make_client, rsa_keys):
    alice = make_client()
    other_key = build_assertion(alice.client_id, make_client(key=rsa_keys[1]).jwk)
    assert_refused(request_token(client, other_key), "invalid_client", 401, "bad signature")


def test_wrong_iss(client, make_client):
    alice = make_client()
    assert_refused(
        request_token(client, alice.assertion(iss="someone-else")), "invalid_client", 401, "claim iss"
    )


def test_sub_naming_another_client(client, make_client, rsa_keys, enterprise_b):
    alice = make_client()
    charlie = make_client(enterprise=enterprise_b, key=rsa_keys[1])
    forged = build_assertion(alice.client_id, alice.jwk, sub=charlie.client_id)
    assert_refused(request_token(client, forged), "invalid_client", 401, "bad signature")
    assert not AccessToken.objects.exists()


def test_missing_sub(client, make_client):
    alice = make_client()
    assert_refused(request_token(client, alice.assertion(sub=None)), "invalid_client", 401, "sub")


@pytest.mark.parametrize(
    "audience",
    [
        "https://evil.example/oauth2/token",
        "https://testserver/oauth2/introspect",
        "https://testserver/oauth2",
        None,
    ],
)
def test_bad_audience(client, make_client, audience):
    alice = make_client()
    body = assert_refused(request_token(client, alice.assertion(aud=audience)), "invalid_client", 401, "aud")
    assert "aud" in body["error_description"]


def test_expired_assertion(client, make_client):
    alice = make_client()
    now = int(time.time())
    body = assert_refused(
        request_token(client, alice.assertion(iat=now - 400, exp=now - 100)),
        "invalid_client",
        401,
        "assertion expired",
    )
    assert "expired" in body["error_description"]


def test_missing_exp(client, make_client):
    alice = make_client()
    assert_refused(
        request_token(client, alice.assertion(exp=None)), "invalid_client", 401, "missing claim exp"
    )


def test_assertion_not_yet_valid(client, make_client):
    alice = make_client()
    now = int(time.time())
    assert_refused(
        request_token(client, alice.assertion(nbf=now + 600, exp=now + 900)),
        "invalid_client",
        401,
        "claim nbf",
    )


def test_assertion_issued_in_the_future(client, make_client):
    alice = make_client()
    now = int(time.time())
    assert_refused(
        request_token(client, alice.assertion(iat=now + 600, exp=now + 900)),
        "invalid_client",
        401,
        "claim iat",
    )


def test_assertion_living_longer_than_the_maximum(client, make_client, settings):
    settings.COFFRE_ASSERTION_MAX_LIFETIME = 600
    alice = make_client()
    assert request_token(client, alice.assertion(lifetime=600)).status_code == 200
    body = assert_refused(
        request_token(client, alice.assertion(lifetime=601)), "invalid_client", 401, "lifetime"
    )
    assert "600 seconds" in body["error_description"]
    now = int(time.time())
    # Without iat, the lifetime counts from now.
    assert_refused(
        request_token(client, alice.assertion(iat=None, exp=now + 3600)), "invalid_client", 401, "lifetime"
    )


def test_missing_jti(client, make_client):
    alice = make_client()
    body = assert_refused(
        request_token(client, alice.assertion(jti=None)), "invalid_client", 401, "missing claim jti"
    )
    assert "jti" in body["error_description"]


def test_replayed_jti(client, make_client):
    alice = make_client()
    assertion = alice.assertion()
    assert request_token(client, assertion).status_code == 200
    body = assert_refused(request_token(client, assertion), "invalid_client", 401, "jti replayed")
    assert "already used" in body["error_description"]
    assert AccessToken.objects.count() == 1


def test_same_jti_in_a_new_assertion_is_a_replay_too(client, make_client):
    alice = make_client()
    assert request_token(client, alice.assertion(jti="fixed-id")).status_code == 200
    assert_refused(
        request_token(client, alice.assertion(jti="fixed-id")), "invalid_client", 401, "jti replayed"
    )


def test_the_same_jti_is_free_for_another_client(client, make_client, rsa_keys, enterprise_b):
    alice = make_client()
    charlie = make_client(enterprise=enterprise_b, key=rsa_keys[1])
    assert request_token(client, alice.assertion(jti="shared")).status_code == 200
    assert request_token(client, charlie.assertion(jti="shared")).status_code == 200


def test_the_jti_is_kept_until_the_assertion_could_no_longer_pass(client, make_client):
    alice = make_client()
    now = int(time.time())
    request_token(client, alice.assertion(jti="kept", exp=now + 120))
    kept = UsedAssertion.objects.get(jti="kept")
    assert kept.expires_at == datetime.datetime.fromtimestamp(now + 120 + 60, tz=datetime.UTC)


def test_alg_none(client, make_client):
    alice = make_client()
    unsigned = build_assertion(alice.client_id, None, header={"alg": "none"})
    body = assert_refused(request_token(client, unsigned), "invalid_client", 401, "algorithm refused")
    assert "RS256" in body["error_description"]


def test_hs256_with_the_public_key_as_secret(client, make_client):
    # The classic confusion: an HMAC keyed with the (public) certificate key. Signed by hand,
    # since joserfc rightly refuses to make such a key.
    alice = make_client()
    public_pem = alice.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    unsigned = build_assertion(alice.client_id, None, header={"alg": "none"})
    header_and_claims = unsigned.rsplit(".", 1)[0].split(".")
    header_and_claims[0] = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    signing_input = ".".join(header_and_claims)
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    forged = signing_input + "." + b64url(signature)
    body = assert_refused(request_token(client, forged), "invalid_client", 401, "algorithm refused")
    assert "RS256" in body["error_description"]


def test_hs256_with_a_shared_secret(client, make_client):
    alice = make_client()
    forged = build_assertion(alice.client_id, OctKey.import_key(b"s" * 32), header={"alg": "HS256"})
    assert_refused(request_token(client, forged), "invalid_client", 401, "algorithm refused")


def test_rs512_is_refused(client, make_client):
    alice = make_client()
    assertion = build_assertion(alice.client_id, alice.jwk, header={"alg": "RS512"})
    assert_refused(request_token(client, assertion), "invalid_client", 401, "algorithm refused")


def test_garbage_assertion(client, make_client):
    make_client()
    assert_refused(request_token(client, "not.a.jwt"), "invalid_client", 401, "Invalid JWT")
    assert_refused(request_token(client, "x" * 5000), "invalid_client", 401, "Invalid JWT")


def test_expired_certificate(client, make_client):
    alice = make_client()
    past = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=10)
    alice.client.certificate_pem = certificate_pem(
        alice.private_key, not_before=past - datetime.timedelta(days=30), not_after=past
    )
    alice.client.save()
    body = assert_refused(
        request_token(client, alice.assertion()), "invalid_client", 401, "certificate outside"
    )
    assert "certificate is not valid now" in body["error_description"]


def test_certificate_not_yet_valid(client, make_client):
    future = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=2)
    alice = make_client(not_before=future, not_after=future + datetime.timedelta(days=30))
    assert_refused(request_token(client, alice.assertion()), "invalid_client", 401, "certificate outside")


def test_inactive_client(client, make_client):
    alice = make_client()
    alice.client.active = False
    alice.client.save()
    body = assert_refused(request_token(client, alice.assertion()), "invalid_client", 401, "client inactive")
    assert "revoked" in body["error_description"]


def test_inactive_enterprise(client, make_client, enterprise_a):
    alice = make_client()
    enterprise_a.active = False
    enterprise_a.save()
    body = assert_refused(
        request_token(client, alice.assertion()), "invalid_client", 401, "enterprise inactive"
    )
    assert "enterprise" in body["error_description"]


def test_unknown_client(client, make_client):
    alice = make_client()
    stranger = build_assertion("coffre-aaaaaaaaaaaaaaaaaaaa", alice.jwk)
    assert_refused(request_token(client, stranger), "invalid_client", 401, "does not exist")


def test_a_client_id_with_a_nul_character_is_unknown(client, make_client):
    # PostgreSQL cannot compare with U+0000: without the check, a 500 there.
    alice = make_client()
    stranger = build_assertion(alice.client_id + "\x00", alice.jwk)
    assert_refused(request_token(client, stranger), "invalid_client", 401, "does not exist")
    entry = AuditRecord.objects.filter(action="oauth.token").latest("seq")
    assert entry.details["claimed_client_id"] == alice.client_id + "\ufffd"


def test_a_jti_with_a_nul_character_is_refused(client, make_client):
    alice = make_client()
    body = assert_refused(request_token(client, alice.assertion(jti="a\x00b")), "invalid_client", 401,
                          "jti with NUL")
    assert "NUL" in body["error_description"]
    assert not UsedAssertion.objects.exists()


def test_no_client_authentication(client, make_client):
    make_client()
    body = assert_refused(request_token(client, None), "invalid_client", 401, "no client assertion")
    assert "private_key_jwt" in body["error_description"]


def test_wrong_assertion_type(client, make_client):
    alice = make_client()
    response = request_token(client, alice.assertion(), client_assertion_type="urn:ietf:params:oauth:saml2")
    assert_refused(response, "invalid_client", 401, "unsupported client_assertion_type")


def test_client_id_parameter_contradicting_the_assertion(client, make_client):
    alice = make_client()
    assert_refused(
        request_token(client, alice.assertion(), client_id="coffre-other"),
        "invalid_client",
        401,
        "client_id does not match",
    )


# --- other refusals (400) -------------------------------------------------------------------------------


def test_wrong_grant_type(client, make_client):
    alice = make_client()
    body = assert_refused(
        request_token(client, alice.assertion(), grant_type="password"), "unsupported_grant_type", 400
    )
    assert "password" in body["error_description"]


def test_missing_grant_type(client, make_client):
    alice = make_client()
    assert_refused(request_token(client, alice.assertion(), grant_type=None), "invalid_request", 400)


def test_scope_not_allowed_for_the_client(client, make_client):
    alice = make_client(scopes=[scopes.MESSAGES_FULL])
    body = assert_refused(
        request_token(client, alice.assertion(), scope=scopes.PUBLICATION_SENDER), "invalid_scope", 400
    )
    assert scopes.PUBLICATION_SENDER in body["error_description"]
    assert not AccessToken.objects.exists()


def test_unknown_scope(client, make_client):
    alice = make_client()
    assert_refused(request_token(client, alice.assertion(), scope="openid"), "invalid_scope", 400)
    # Short names are for the CLI; OAuth clients send the full strings.
    assert_refused(request_token(client, alice.assertion(), scope="messagesfull"), "invalid_scope", 400)


def test_unprintable_scope_gives_a_clean_error(client, make_client):
    alice = make_client()
    assert_refused(request_token(client, alice.assertion(), scope='caf\u00e9"\\'), "invalid_scope", 400)


def test_repeated_parameter(client, make_client):
    alice = make_client()
    response = client.post(
        "/oauth2/token",
        (
            "grant_type=client_credentials&scope=a&scope=b&client_assertion_type="
            "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion="
            + alice.assertion()
        ),
        content_type="application/x-www-form-urlencoded",
        secure=True,
    )
    assert_refused(response, "invalid_request", 400)


def test_plain_http_off_loopback_is_refused(client, make_client):
    alice = make_client()
    response = client.post(
        "/oauth2/token",
        {
            "grant_type": "client_credentials",
            "client_assertion": alice.assertion("http://testserver/oauth2/token"),
        },
    )
    assert_refused(response, "invalid_request", 400)
    assert not AccessToken.objects.exists()


def test_get_is_not_allowed(client):
    assert client.get("/oauth2/token", secure=True).status_code == 405


def test_refusals_are_audited_without_the_assertion(client, make_client):
    alice = make_client(scopes=[scopes.MESSAGES_FULL])
    bad_audience = alice.assertion(aud="https://evil.example")
    request_token(client, bad_audience)
    request_token(client, alice.assertion(), scope=scopes.PUBLICATION_SENDER)
    request_token(client, alice.assertion(), grant_type="password")

    refusals = list(AuditRecord.objects.filter(action="oauth.token").order_by("seq"))
    assert [(r.status, r.details["error"]) for r in refusals] == [
        (401, "invalid_client"),
        (400, "invalid_scope"),
        (400, "unsupported_grant_type"),
    ]
    # Unauthenticated: the claimed client id is kept apart from the actor.
    assert refusals[0].actor == "" and refusals[0].details["claimed_client_id"] == alice.client_id
    assert "aud" in refusals[0].details["reason"]
    # Authenticated, refused later: the client is the actor.
    assert refusals[1].actor == alice.client_id
    for entry in refusals:
        assert bad_audience not in str(entry.details)
        assert entry.url == "/oauth2/token"


def test_neither_token_nor_assertion_is_logged(client, make_client, caplog):
    alice = make_client()
    caplog.set_level(logging.DEBUG)
    assertion = alice.assertion()
    token = request_token(client, assertion).json()["access_token"]
    request_token(client, assertion)  # replayed: refused
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert caplog.records  # Authlib does log at DEBUG: the check below looks at something
    assert token not in logged
    assert assertion not in logged and assertion.split(".")[2] not in logged


def test_a_damaged_stored_certificate_refuses_the_client_without_a_server_error(client, make_client):
    alice = make_client()
    alice.client.certificate_pem = certificate_pem(new_rsa_key(1024))
    alice.client.save()
    assert_refused(request_token(client, alice.assertion()), "invalid_client", 401, "stored certificate")


def test_csrf_does_not_apply(make_client):
    alice = make_client()
    browserless = Client(enforce_csrf_checks=True)
    assert request_token(browserless, alice.assertion()).status_code == 200
