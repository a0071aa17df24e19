"""The message as it leaves: DKIM signature verified as a receiving server would, bounce addresses."""

import base64

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from coffre.outbox import services, transport
from coffre.outbox.models import OutgoingMail
from coffre.outbox.tests.conftest import queue

SELECTOR = "coffre2026"
DOMAIN = "alice-mail.example"


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def dkim_settings(settings, rsa_key):
    settings.COFFRE_DKIM_PRIVATE_KEY = rsa_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode().strip()
    settings.COFFRE_DKIM_SELECTOR = SELECTOR
    settings.COFFRE_DKIM_DOMAIN = DOMAIN


def dns_of(rsa_key):
    """The DNS TXT record <selector>._domainkey.<domain> publishing the public key."""
    public = rsa_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
    asked = []

    def dnsfunc(name, timeout=5):
        asked.append(name)
        return record if name == f"{SELECTOR}._domainkey.{DOMAIN}.".encode() else None

    return dnsfunc, asked


def test_a_signed_mail_verifies_at_the_receiver_and_an_altered_one_does_not(
    db, clock, relay, dkim_settings, rsa_key
):
    server = relay()
    mail = queue()
    # Text and HTML: a multipart message, whose boundary must be the one signed.
    OutgoingMail.objects.filter(pk=mail.pk).update(html="<p>Vérifiez votre adresse</p>")
    services.deliver(mail.pk)
    [received] = server.received
    data = received.data
    assert data.startswith(b"DKIM-Signature: ")
    signature = data.split(b"\r\n\r\n", 1)[0].decode()
    assert "a=rsa-sha256" in signature and "c=relaxed/relaxed" in signature
    assert f"d={DOMAIN}" in signature and f"s={SELECTOR}" in signature
    header_list = signature.split("h=", 1)[1].split(";", 1)[0].replace(" ", "").replace("\r\n", "").lower()
    for name in ("from", "to", "subject", "date", "message-id", "mime-version", "content-type"):
        assert name in header_list.split(":")

    assert b"multipart/alternative" in data
    dnsfunc, asked = dns_of(rsa_key)
    assert dkim.verify(data, dnsfunc=dnsfunc)
    assert asked == [f"{SELECTOR}._domainkey.{DOMAIN}.".encode()]

    altered_subject = data.replace(b"\r\nSubject: ", b"\r\nSubject: Urgent: ", 1)
    assert altered_subject != data
    assert not dkim.verify(altered_subject, dnsfunc=dnsfunc)
    added_from = data.replace(b"\r\nSubject: ", b"\r\nFrom: thief@example.com\r\nSubject: ", 1)
    assert not dkim.verify(added_from, dnsfunc=dnsfunc)
    altered_body = data.replace(b"https://coffre.example/verify/abc", b"https://coffre.example/verify/xyz")
    assert altered_body != data
    assert not dkim.verify(altered_body, dnsfunc=dnsfunc)


def test_without_a_key_nothing_is_signed(db, clock, relay, settings):
    settings.COFFRE_DKIM_PRIVATE_KEY = ""
    server = relay()
    services.deliver(queue().pk)
    assert b"DKIM-Signature" not in server.received[0].data


def test_the_file_backend_writes_the_signed_message(db, clock, settings, dkim_settings, rsa_key, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    services.deliver(queue().pk)
    [path] = tmp_path.iterdir()
    written = path.read_bytes().rsplit(b"\n" + b"-" * 79, 1)[0]
    dnsfunc, _ = dns_of(rsa_key)
    assert written.startswith(b"DKIM-Signature: ")
    assert dkim.verify(written.replace(b"\n", b"\r\n"), dnsfunc=dnsfunc)


def test_a_key_that_is_not_a_private_key_is_refused_without_being_quoted():
    problem = transport.dkim_key_problem("-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----")
    assert problem == "not a PEM RSA private key (PKCS#1 or PKCS#8)"


@pytest.mark.parametrize(
    ("address", "token"),
    [
        ("bounces+0123abcd@bounces.coffre.test", "0123abcd"),
        ("<BOUNCES+0123ABCD@Bounces.Coffre.Test>", "0123abcd"),
        ("bounces@bounces.coffre.test", None),
        ("bounces+@bounces.coffre.test", None),
        ("bounces+0123abcd@elsewhere.test", None),
        ("alice+0123abcd@bounces.coffre.test", None),
    ],
)
def test_bounce_addresses_are_read_on_the_bounce_domain_only(settings, address, token):
    settings.COFFRE_BOUNCE_DOMAIN = "bounces.coffre.test"
    assert transport.bounce_token_of(address) == token


def test_without_a_bounce_domain_no_address_is_a_bounce_address(settings):
    settings.COFFRE_BOUNCE_DOMAIN = ""
    assert transport.bounce_address("0123abcd") is None
    assert transport.bounce_token_of("bounces+0123abcd@bounces.coffre.test") is None
