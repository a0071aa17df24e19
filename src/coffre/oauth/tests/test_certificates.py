"""Checking client certificates (certificates.py)."""

import datetime
import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from coffre.oauth.certificates import parse_certificate, verification_key
from coffre.oauth.errors import CertificateError
from coffre.oauth.testing import certificate_pem, new_rsa_key, private_key_pem


def test_a_good_certificate(rsa_keys):
    pem = certificate_pem(rsa_keys[0], common_name="Compta SA production")
    parsed = parse_certificate(pem.encode())
    der = x509.load_pem_x509_certificate(pem.encode()).public_bytes(serialization.Encoding.DER)
    assert parsed.sha256 == hashlib.sha256(der).hexdigest()
    assert parsed.subject == "CN=Compta SA production"
    assert parsed.key_size == 2048
    assert parsed.pem == pem
    assert parsed.valid_at(datetime.datetime.now(datetime.UTC))
    assert not parsed.valid_at(parsed.not_after + datetime.timedelta(seconds=1))


def test_surrounding_text_is_not_kept(rsa_keys):
    pem = certificate_pem(rsa_keys[0])
    parsed = parse_certificate("Bag Attributes\n  friendlyName: client\n" + pem)
    assert parsed.pem == pem


def test_the_verification_key_is_the_certificates_public_key(rsa_keys):
    _, key = verification_key(certificate_pem(rsa_keys[0]))
    expected = rsa_keys[0].public_key().public_numbers()
    assert key.as_dict()["kty"] == "RSA"
    assert key.public_key.public_numbers() == expected
    assert not key.is_private


@pytest.mark.parametrize(
    "data, message",
    [
        (b"\x30\x82\x01\x0a\xff", "not a PEM file"),
        ("hello", "not a PEM file"),
        ("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n", "cannot be read"),
    ],
)
def test_not_a_certificate(data, message):
    with pytest.raises(CertificateError, match=message):
        parse_certificate(data)


def test_a_short_rsa_key_is_refused():
    with pytest.raises(CertificateError, match="1024 bits; at least 2048"):
        parse_certificate(certificate_pem(new_rsa_key(1024)))


def test_a_non_rsa_key_is_refused():
    with pytest.raises(CertificateError, match="not an RSA key"):
        parse_certificate(certificate_pem(ec.generate_private_key(ec.SECP256R1())))


def test_a_file_with_the_private_key_is_refused(rsa_keys):
    combined = private_key_pem(rsa_keys[0]).decode() + certificate_pem(rsa_keys[0])
    with pytest.raises(CertificateError, match="private key"):
        parse_certificate(combined)


def test_a_chain_is_refused(rsa_keys):
    with pytest.raises(CertificateError, match="2 certificates"):
        parse_certificate(certificate_pem(rsa_keys[0]) + certificate_pem(rsa_keys[1]))
