"""Setting up an e-Box DocConsumer: the key pair and the self-signed certificate (docs/agents-docconsumer.md).

The e-Box side (ChaMan for the official e-Box, ``coffre client create`` for a Coffre instance)
registers a webservice account from an X.509 certificate and answers with a client id; the
DocConsumer agent then signs its ``private_key_jwt`` assertions with the certificate's private
key. ``new_key_and_certificate`` makes both here, so that the private key never leaves Coffre:
the person downloads the certificate only.

RSA 2048: what the e-Box side requires at least (``coffre.oauth.certificates.MIN_RSA_BITS``), and
a PKCS#8 PEM of a 2048-bit key fits in one credential field (at most 2048 characters; a 3072-bit
key's PEM does not). Never logs a key; an error never holds one.
"""

import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from coffre.agents.providers.pem import PemError, pem_text

KEY_SIZE = 2048
#: How long the certificate is valid; after that the setup is made again (a new certificate).
VALIDITY = dt.timedelta(days=3 * 365)
#: X.509's upper bound for a common name (RFC 5280, ub-common-name).
MAX_COMMON_NAME = 64


def new_key_and_certificate(
    common_name: str, *, now: dt.datetime | None = None, validity: dt.timedelta = VALIDITY
) -> tuple[str, str]:
    """A new RSA key and a self-signed certificate of it: (private key PEM, certificate PEM).

    The key is PKCS#8, unencrypted (it is sealed with the connection's credentials); the
    certificate names ``common_name`` (e.g. "Coffre DocConsumer 0456789034"), is valid from an
    hour before ``now`` (clocks differ) for ``validity``, and may sign (digitalSignature, client
    authentication), nothing else.
    """
    name = " ".join(str(common_name).split())
    if not name or len(name) > MAX_COMMON_NAME:
        raise ValueError(f"the common name must have 1 to {MAX_COMMON_NAME} characters")
    if validity <= dt.timedelta(0):
        raise ValueError("the validity must be positive")
    now = now or dt.datetime.now(dt.UTC)
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + validity)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    private_key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
    certificate_pem = certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")
    return private_key_pem, certificate_pem


def key_matches_certificate(private_key_pem: str, certificate_pem: str) -> bool:
    """Whether the certificate is the one of this private key (the setup page checks it before
    offering the certificate again). False for anything that does not read."""
    try:
        key = serialization.load_pem_private_key(pem_text(private_key_pem).encode("ascii"), password=None)
        certificate = x509.load_pem_x509_certificate(pem_text(certificate_pem).encode("ascii"))
    except (PemError, ValueError, TypeError):
        return False
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    return key.public_key().public_bytes(serialization.Encoding.DER, public) == certificate.public_key().public_bytes(
        serialization.Encoding.DER, public
    )
