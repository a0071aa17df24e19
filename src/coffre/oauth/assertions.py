"""The client side of ``private_key_jwt``: signing a JWT client assertion (RFC 7523 section 2.2).

Used by ``coffre client assertion`` (scripts, the README walkthrough) and by tests. The private
key stays with the client software: this module reads it to sign and never stores or prints it.
"""

import time

from authlib.oauth2.rfc7523 import private_key_jwt_sign
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc.jwk import RSAKey

from coffre.oauth.certificates import MIN_RSA_BITS
from coffre.oauth.errors import ClientError


def load_private_key(data: bytes | str) -> RSAKey:
    """An RSA private key from PEM, or ``ClientError`` saying what is wrong (never the key)."""
    raw = data.encode("ascii", "replace") if isinstance(data, str) else data
    try:
        key = serialization.load_pem_private_key(raw, password=None)
    except TypeError:
        raise ClientError(
            "the private key is encrypted: decrypt it first (openssl pkey -in key.pem -out plain.pem)"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise ClientError(
            "the private key cannot be read (expected an unencrypted PEM private key)"
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ClientError("the private key is not an RSA key (assertions are signed RS256)")
    if key.key_size < MIN_RSA_BITS:
        raise ClientError(f"the RSA key has {key.key_size} bits; at least {MIN_RSA_BITS} are required")
    return RSAKey.import_key(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )


def sign_assertion(
    client_id: str, private_key: RSAKey, audience: str, lifetime: int = 300, issued_at: int | None = None
) -> str:
    """A fresh RS256 client assertion: iss = sub = client id, aud, iat, exp, a random jti."""
    if lifetime <= 0:
        raise ClientError("the assertion lifetime must be positive")
    issued_at = int(time.time()) if issued_at is None else issued_at
    return private_key_jwt_sign(
        private_key, client_id, audience, alg="RS256", issued_at=issued_at, expires_at=issued_at + lifetime
    )
