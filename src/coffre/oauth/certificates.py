"""X.509 certificates of webservice clients: parsing, checking, fingerprint and public key.

A client registers the certificate whose private key signs its JWT assertions. Only the
certificate is ever stored (re-encoded from what was parsed, so that nothing else that came in
the same file is kept); a file that also holds a private key is refused, so that operators do
not get used to handing keys around.
"""

import datetime
import functools
import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc.jwk import RSAKey

from coffre.oauth.errors import CertificateError

MIN_RSA_BITS = 2048


@dataclass(frozen=True)
class ClientCertificate:
    pem: str
    sha256: str
    subject: str
    not_before: datetime.datetime
    not_after: datetime.datetime
    key_size: int

    def valid_at(self, moment: datetime.datetime) -> bool:
        return self.not_before <= moment <= self.not_after


def _to_text(data: bytes | str) -> str:
    if isinstance(data, bytes):
        try:
            return data.decode("ascii")
        except UnicodeDecodeError:
            raise CertificateError(
                "the certificate is not a PEM file (expected text beginning with -----BEGIN CERTIFICATE-----)"
            ) from None
    return data


def parse_certificate(data: bytes | str) -> ClientCertificate:
    """Check a PEM certificate for use by a client; raise ``CertificateError`` saying what is wrong."""
    text = _to_text(data)
    if "PRIVATE KEY-----" in text:
        raise CertificateError(
            "the file contains a private key: give the certificate only, and keep "
            "the private key with the client software"
        )
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise CertificateError("the certificate is not a PEM file (expected -----BEGIN CERTIFICATE-----)")
    try:
        certificates = x509.load_pem_x509_certificates(text.encode("ascii"))
    except ValueError:
        raise CertificateError("the certificate cannot be read (damaged PEM or not X.509)") from None
    if len(certificates) != 1:
        raise CertificateError(
            f"the file holds {len(certificates)} certificates: give only the "
            "client's own certificate, not its chain"
        )
    certificate = certificates[0]
    try:
        public_key = certificate.public_key()
    except ValueError:
        raise CertificateError("the public key of the certificate cannot be read") from None
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise CertificateError("the certificate's key is not an RSA key (assertions are signed RS256)")
    if public_key.key_size < MIN_RSA_BITS:
        raise CertificateError(
            f"the certificate's RSA key has {public_key.key_size} bits; at least {MIN_RSA_BITS} are required"
        )
    der = certificate.public_bytes(serialization.Encoding.DER)
    return ClientCertificate(
        pem=certificate.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        sha256=hashlib.sha256(der).hexdigest(),
        subject=certificate.subject.rfc4514_string(),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        key_size=public_key.key_size,
    )


@functools.lru_cache(maxsize=512)
def _parsed(pem: str) -> tuple[ClientCertificate, RSAKey]:
    certificate = x509.load_pem_x509_certificate(pem.encode("ascii"))
    spki = certificate.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return parse_certificate(pem), RSAKey.import_key(spki)


def verification_key(pem: str) -> tuple[ClientCertificate, RSAKey]:
    """The certificate's details and its public key as a JWK, for verifying RS256 signatures.

    ``pem`` is a certificate already accepted by ``parse_certificate`` (read from the database);
    the result is cached because the token endpoint needs it on every request.
    """
    return _parsed(pem)
