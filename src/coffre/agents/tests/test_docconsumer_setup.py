"""The DocConsumer set-up: a key and a certificate the e-Box side accepts, and PEM on one line."""

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt

from coffre.agents.providers.docconsumer_setup import key_matches_certificate, new_key_and_certificate
from coffre.agents.providers.pem import PemError, one_line, pem_text
from coffre.oauth.assertions import load_private_key, sign_assertion
from coffre.oauth.certificates import parse_certificate, verification_key

MOMENT = dt.datetime(2026, 5, 4, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def made():
    return new_key_and_certificate("Coffre DocConsumer 0456789034", now=MOMENT)


def test_the_certificate_is_one_coffre_registers_for_a_client(made):
    private_key_pem, certificate_pem = made
    certificate = parse_certificate(certificate_pem)  # what `coffre client create` checks
    assert certificate.subject == "CN=Coffre DocConsumer 0456789034"
    assert certificate.key_size == 2048
    assert certificate.valid_at(MOMENT) and certificate.valid_at(MOMENT + dt.timedelta(days=3 * 365 - 1))
    assert not certificate.valid_at(MOMENT + dt.timedelta(days=3 * 365 + 1))
    parsed = x509.load_pem_x509_certificate(certificate_pem.encode())
    assert parsed.issuer == parsed.subject  # self-signed
    assert parsed.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert parsed.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature


def test_the_key_signs_assertions_the_certificate_verifies(made):
    private_key_pem, certificate_pem = made
    key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
    assertion = sign_assertion("client-1", load_private_key(private_key_pem), "https://coffre.example/oauth2/token")
    _details, public_key = verification_key(certificate_pem)
    claims = jwt.decode(assertion, public_key, algorithms=["RS256"]).claims
    assert (claims["iss"], claims["sub"], claims["aud"]) == ("client-1", "client-1", "https://coffre.example/oauth2/token")
    assert key_matches_certificate(private_key_pem, certificate_pem)
    other_key, other_certificate = new_key_and_certificate("Another one")
    assert not key_matches_certificate(private_key_pem, other_certificate)
    assert not key_matches_certificate("not a key", certificate_pem)


def test_the_private_key_fits_a_one_line_credential_field(made):
    private_key_pem, certificate_pem = made
    line = one_line(private_key_pem)
    assert "\n" not in line and len(line) <= 2048
    assert pem_text(line) == private_key_pem
    assert pem_text(private_key_pem.replace("\n", "")) == private_key_pem  # a browser input drops breaks
    assert pem_text(one_line(certificate_pem)) == certificate_pem


def test_damaged_pem_is_refused_without_echoing_it(made):
    private_key_pem, _certificate_pem = made
    body = private_key_pem.splitlines()[1]
    damaged = private_key_pem.replace(body, body[:-3] + "!!!")
    with pytest.raises(PemError) as refused:
        pem_text(damaged)
    assert body[:20] not in str(refused.value)
    with pytest.raises(PemError):
        pem_text("nothing here")


def test_a_common_name_is_required():
    with pytest.raises(ValueError):
        new_key_and_certificate("  ")
    with pytest.raises(ValueError):
        new_key_and_certificate("x" * 65)
