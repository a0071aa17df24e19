"""DKIM keys and signatures for the tests (dkimpy signs, as a sending mail server would).

``DkimKey.generate()`` makes an RSA key; ``key.publish(dns_server, "example.be", "s1")`` serves
its public key at ``s1._domainkey.example.be``; ``key.sign(raw_message, "example.be", "s1")``
returns the message with a ``DKIM-Signature`` header on top. Never used by the running application.
"""

import base64
from dataclasses import dataclass

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

SIGNED_HEADERS = [b"from", b"to", b"subject", b"date", b"message-id"]


@dataclass(frozen=True)
class DkimKey:
    private_pem: bytes
    public_der: bytes

    @classmethod
    def generate(cls, bits: int = 2048) -> "DkimKey":
        key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
        private_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
        public_der = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return cls(private_pem, public_der)

    def record(self) -> str:
        """The TXT record of the public key (RFC 6376 3.6.1)."""
        return "v=DKIM1; k=rsa; p=" + base64.b64encode(self.public_der).decode("ascii")

    def publish(self, dns_server, domain: str, selector: str) -> None:
        dns_server.txt(f"{selector}._domainkey.{domain}", self.record())

    def sign(self, raw_message: bytes, domain: str, selector: str, *,
             headers: list[bytes] | None = None) -> bytes:
        signature = dkim.sign(
            raw_message, selector.encode("ascii"), domain.encode("ascii"), self.private_pem,
            include_headers=headers or SIGNED_HEADERS,
        )
        return signature + raw_message
