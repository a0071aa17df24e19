"""Registering and revoking clients, used assertions, token storage, purge (services.py, tasks.py)."""

import datetime
import re

import pytest
from django.utils import timezone

from coffre.audit.models import AuditRecord
from coffre.audit.services import Actor, verify_chain
from coffre.oauth import scopes, services
from coffre.oauth.errors import (
    CertificateError,
    ClientError,
    RevokedClientCertificate,
    UnknownClient,
    UnknownEnterprise,
)
from coffre.oauth.models import AccessToken, UsedAssertion, WebserviceClient
from coffre.oauth.tasks import purge_expired_oauth_records
from coffre.oauth.testing import certificate_pem, issue_token

pytestmark = pytest.mark.django_db
OPERATOR = Actor.cli("client create")


def audit(action):
    return list(AuditRecord.objects.filter(action=action).order_by("seq"))


def test_create_client(enterprise_a, rsa_keys):
    pem = certificate_pem(rsa_keys[0])
    client, created = services.create_client(
        "BE " + enterprise_a.cbe, pem, ["messagesfull", scopes.SUMMARY_OWN], "Compta SA", OPERATOR
    )
    assert created
    assert re.fullmatch(r"coffre-[a-z2-7]{20}", client.client_id)
    assert client.enterprise == enterprise_a
    assert client.scopes == [scopes.SUMMARY_OWN, scopes.MESSAGES_FULL]
    assert client.active and client.name == "Compta SA"
    assert client.certificate_pem == pem
    [entry] = audit("oauth.client.create")
    assert (entry.actor_kind, entry.actor) == ("cli", "client create")
    assert entry.details == {
        "client_id": client.client_id,
        "enterprise": enterprise_a.cbe,
        "name": "Compta SA",
        "scopes": [scopes.SUMMARY_OWN, scopes.MESSAGES_FULL],
        "certificate_sha256": client.certificate_sha256,
    }


def test_client_ids_are_distinct(enterprise_a, rsa_keys):
    first, _ = services.create_client(
        enterprise_a.cbe, certificate_pem(rsa_keys[0]), ["messagesfull"], "", OPERATOR
    )
    second, _ = services.create_client(
        enterprise_a.cbe, certificate_pem(rsa_keys[1]), ["messagesfull"], "", OPERATOR
    )
    assert first.client_id != second.client_id


def test_same_enterprise_and_certificate_give_the_same_client(enterprise_a, rsa_keys):
    pem = certificate_pem(rsa_keys[0])
    first, created = services.create_client(enterprise_a.cbe, pem, ["messagesfull"], "", OPERATOR)
    again, created_again = services.create_client(
        enterprise_a.cbe, pem.encode(), ["messagesfull"], "", OPERATOR
    )
    assert created and not created_again
    assert again.pk == first.pk
    assert WebserviceClient.objects.count() == 1
    assert len(audit("oauth.client.create")) == 1
    assert audit("oauth.client.update") == []


def test_recreating_with_other_scopes_updates_them_audited(enterprise_a, rsa_keys):
    pem = certificate_pem(rsa_keys[0])
    first, _ = services.create_client(enterprise_a.cbe, pem, ["messagesfull"], "Compta", OPERATOR)
    again, created = services.create_client(
        enterprise_a.cbe, pem, ["messagesfull", "referencedata"], "", OPERATOR
    )
    assert not created and again.pk == first.pk
    first.refresh_from_db()
    assert first.scopes == [scopes.MESSAGES_FULL, scopes.REFERENCE_DATA]
    assert first.name == "Compta"  # not given: kept
    [entry] = audit("oauth.client.update")
    assert entry.details == {
        "client_id": first.client_id,
        "scopes": {"before": [scopes.MESSAGES_FULL], "after": [scopes.MESSAGES_FULL, scopes.REFERENCE_DATA]},
    }


def test_the_same_certificate_for_another_enterprise_is_another_client(enterprise_a, enterprise_b, rsa_keys):
    pem = certificate_pem(rsa_keys[0])
    alice, _ = services.create_client(enterprise_a.cbe, pem, ["messagesfull"], "", OPERATOR)
    charlie, created = services.create_client(enterprise_b.cbe, pem, ["messagesfull"], "", OPERATOR)
    assert created and charlie.client_id != alice.client_id and charlie.enterprise == enterprise_b


def test_the_certificate_of_a_revoked_client_is_refused(enterprise_a, rsa_keys):
    pem = certificate_pem(rsa_keys[0])
    client, _ = services.create_client(enterprise_a.cbe, pem, ["messagesfull"], "", OPERATOR)
    services.revoke_client(client.client_id, OPERATOR)
    with pytest.raises(RevokedClientCertificate, match=client.client_id):
        services.create_client(enterprise_a.cbe, pem, ["messagesfull"], "", OPERATOR)


@pytest.mark.parametrize(
    "cbe, message",
    [("0999.999.922", "no enterprise with CBE number 0999999922"), ("12345", "not a CBE number")],
)
def test_unknown_enterprise(db, rsa_keys, cbe, message):
    with pytest.raises(UnknownEnterprise, match=message):
        services.create_client(cbe, certificate_pem(rsa_keys[0]), ["messagesfull"], "", OPERATOR)


def test_bad_input_is_refused_and_nothing_is_written(enterprise_a, rsa_keys):
    now = datetime.datetime.now(datetime.UTC)
    expired = certificate_pem(
        rsa_keys[0], not_before=now - datetime.timedelta(days=60), not_after=now - datetime.timedelta(days=1)
    )
    with pytest.raises(CertificateError, match="expired"):
        services.create_client(enterprise_a.cbe, expired, ["messagesfull"], "", OPERATOR)
    with pytest.raises(CertificateError):
        services.create_client(enterprise_a.cbe, "not a certificate", ["messagesfull"], "", OPERATOR)
    with pytest.raises(ClientError, match="unknown scope 'everything'"):
        services.create_client(enterprise_a.cbe, certificate_pem(rsa_keys[0]), ["everything"], "", OPERATOR)
    with pytest.raises(ClientError, match="at least one scope"):
        services.create_client(enterprise_a.cbe, certificate_pem(rsa_keys[0]), [], "", OPERATOR)
    assert not WebserviceClient.objects.exists()
    assert audit("oauth.client.create") == []


def test_revoke_client_revokes_its_tokens(client, make_client, rsa_keys, enterprise_b):
    alice = make_client()
    charlie = make_client(enterprise=enterprise_b, key=rsa_keys[1])
    issue_token(client, alice)
    issue_token(client, alice)
    issue_token(client, charlie)

    revoked = services.revoke_client(alice.client_id, Actor.cli("client revoke"))
    assert not revoked.active
    assert set(AccessToken.objects.filter(revoked=True).values_list("client", flat=True)) == {alice.client.pk}
    assert AccessToken.objects.filter(client=charlie.client, revoked=False).count() == 1
    [entry] = audit("oauth.client.revoke")
    assert entry.details == {
        "client_id": alice.client_id,
        "enterprise": alice.client.enterprise.cbe,
        "tokens_revoked": 2,
    }
    # Revoking again changes nothing and records nothing.
    services.revoke_client(alice.client_id, Actor.cli("client revoke"))
    assert len(audit("oauth.client.revoke")) == 1


def test_revoke_unknown_client(db):
    with pytest.raises(UnknownClient):
        services.revoke_client("coffre-unknown", OPERATOR)


def test_consume_assertion_accepts_a_jti_once(make_client):
    alice = make_client()
    until = timezone.now() + datetime.timedelta(minutes=5)
    assert services.consume_assertion(alice.client, "abc", until)
    assert not services.consume_assertion(alice.client, "abc", until)
    assert UsedAssertion.objects.filter(client=alice.client, jti="abc").count() == 1


def test_save_access_token_keeps_only_the_hash(make_client, settings):
    alice = make_client()
    token = services.save_access_token(alice.client, "secret-token-value", [scopes.MESSAGES_FULL], 600)
    values = [str(value) for value in AccessToken.objects.values_list().get()]
    assert "secret-token-value" not in values
    assert token.expires_at - token.issued_at == datetime.timedelta(seconds=600)
    assert "secret-token-value" not in str(audit("oauth.token")[0].details)


def test_purge_expired(make_client):
    alice = make_client()
    now = timezone.now()
    services.consume_assertion(alice.client, "old", now - datetime.timedelta(seconds=1))
    services.consume_assertion(alice.client, "live", now + datetime.timedelta(minutes=1))
    long_expired = services.save_access_token(alice.client, "t1", [scopes.MESSAGES_FULL], 60)
    recently_expired = services.save_access_token(alice.client, "t2", [scopes.MESSAGES_FULL], 60)
    live = services.save_access_token(alice.client, "t3", [scopes.MESSAGES_FULL], 3600)
    AccessToken.objects.filter(pk=long_expired.pk).update(expires_at=now - datetime.timedelta(days=2))
    AccessToken.objects.filter(pk=recently_expired.pk).update(expires_at=now - datetime.timedelta(hours=1))

    result = services.purge_expired(now)

    assert (result.assertions, result.tokens) == (1, 1)
    assert list(UsedAssertion.objects.values_list("jti", flat=True)) == ["live"]
    assert set(AccessToken.objects.values_list("pk", flat=True)) == {recently_expired.pk, live.pk}
    [entry] = audit("oauth.purge")
    assert entry.details == {"assertions": 1, "tokens": 1}
    # Nothing left to purge: nothing recorded.
    assert services.purge_expired(now) == services.PurgeResult(0, 0)
    assert len(audit("oauth.purge")) == 1
    assert verify_chain().ok


def test_purge_task(make_client):
    alice = make_client()
    services.consume_assertion(alice.client, "old", timezone.now() - datetime.timedelta(seconds=1))
    assert purge_expired_oauth_records.call() == {"assertions": 1, "tokens": 0}
    assert not UsedAssertion.objects.exists()
