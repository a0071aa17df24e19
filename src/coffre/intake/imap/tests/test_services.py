"""Adding, changing and removing IMAP sources: validation, idempotence, audit records."""

import pytest

from coffre.audit.models import AuditRecord
from coffre.audit.services import Actor
from coffre.intake.imap import credentials, services
from coffre.intake.imap.models import ImapSource

ACTOR = Actor.cli("test")


def add(**fields):
    values = {
        "target": "documents-k7q2",
        "host": "imap.client.example",
        "username": "factures@client.example",
        "password": "pa55-word",
        "actor": ACTOR,
        **fields,
    }
    return services.add_source(**values)


@pytest.mark.django_db
def test_a_source_is_added_with_its_default_port_and_a_sealed_password():
    source, created = add()

    assert created and (source.port, source.security, source.folder, source.last_uid) == (
        993,
        "tls",
        "INBOX",
        0,
    )
    stored = ImapSource.objects.get(pk=source.pk)
    assert b"pa55-word" not in bytes(stored.password_sealed)
    assert credentials.unseal(stored.password_sealed) == "pa55-word"
    [audit] = AuditRecord.objects.filter(action="intake.imap_source.added")
    assert audit.details["host"] == "imap.client.example" and "pa55-word" not in str(audit.details)


@pytest.mark.django_db
def test_adding_again_is_the_same_source_brought_up_to_date():
    first, _ = add()
    ImapSource.objects.filter(pk=first.pk).update(last_uid=41, failures=3)

    same, created = add(host="IMAP.client.example", password="new-pa55", target="achats-x9")
    unchanged, created_again = add(host="imap.client.example", password="new-pa55", target="achats-x9")

    assert (created, created_again, same.pk, unchanged.pk) == (False, False, first.pk, first.pk)
    source = ImapSource.objects.get(pk=first.pk)
    assert (source.target, source.last_uid, source.failures) == ("achats-x9", 41, 0)
    assert credentials.unseal(source.password_sealed) == "new-pa55"
    [update] = AuditRecord.objects.filter(action="intake.imap_source.updated")
    assert update.details["changed"] == ["target", "password"]
    assert ImapSource.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields, message",
    [
        ({"target": "bad target"}, "is not the local part"),
        ({"host": "imap example"}, "is not a host name"),
        ({"security": "ssl3"}, "security must be one of"),
        ({"security": "plain"}, "only allowed to this machine"),
        ({"port": 70000}, "between 1 and 65535"),
        ({"username": ""}, "a username is needed"),
        ({"password": ""}, "a password is needed"),
        ({"password": "a\nb"}, "a password is needed"),
        ({"folder": ""}, "a folder name is needed"),
        ({"ca_certificate": "not a pem"}, "not a PEM certificate"),
    ],
)
def test_bad_sources_are_refused_clearly(fields, message):
    with pytest.raises(services.SourceError, match=message) as error:
        add(**fields)
    assert "pa55-word" not in str(error.value)
    assert not ImapSource.objects.exists()


@pytest.mark.django_db
def test_plain_connections_only_to_loopback():
    for host in ("127.0.0.1", "::1", "localhost", "[::1]"):
        source, _ = add(host=host, security="plain")
        assert source.port == 143


@pytest.mark.django_db
def test_removing_a_source():
    source, _ = add()

    assert services.remove_source(source.pk, ACTOR) is True
    assert services.remove_source(source.pk, ACTOR) is False
    assert not ImapSource.objects.exists()
    assert AuditRecord.objects.get(action="intake.imap_source.removed").details["id"] == source.pk
