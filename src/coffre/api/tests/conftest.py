"""A small federation for the API tests.

- ONSS (0406798006), an institution that publishes (client ``sender``), with application DMFA and
  message types ATTEST (valid 1 year, via DMFA) and REMINDER (valid 30 days);
- SPF (0308357159), another publisher (client ``other_sender``);
- enterprise A, alice's (client ``alice``), and enterprise B, charlie's (client ``charlie``);
- ``alice_refdata_only``: a client of A with the referencedata scope only (403 cases).

Tokens come from the real token endpoint (private_key_jwt), through Django's test client.
"""

import base64
import hashlib
import json
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from coffre.accounts.services import register_enterprise
from coffre.audit.services import Actor
from coffre.core.cbe import make_cbe
from coffre.mailbox import reference
from coffre.oauth import scopes
from coffre.oauth.testing import ClientCredentials, certificate_pem, request_token, rsa_keys  # noqa: F401
from coffre.oauth import services as oauth_services

ROOT = "/REST/ebox/enterprise/messageRegistry/v2/"
ONSS = "0406798006"
SPF = make_cbe(3083571)
A = make_cbe(2000001)
B = make_cbe(3000002)
ACTOR = Actor.cli("test")
CONSUMER_SCOPES = [scopes.MESSAGES_FULL, scopes.SUMMARY_OWN, scopes.REFERENCE_DATA]
PDF = b"%PDF-1.7\n" + b"1 0 obj << /Type /Catalog >> endobj\n" * 40 + b"%%EOF\n"


def b64url_digest(data: bytes, padded: bool = True) -> str:
    text = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).decode()
    return text if padded else text.rstrip("=")


@dataclass
class Caller:
    """A webservice client with a token, calling through Django's test client over HTTPS."""

    http: Client
    token: str
    cbe: str
    client_id: str

    def _headers(self, extra):
        return {"HTTP_AUTHORIZATION": f"Bearer {self.token}", **extra}

    def get(self, path, params=None, **extra):
        return self.http.get(ROOT + path, params or {}, secure=True, **self._headers(extra))

    def post_json(self, path, body, **extra):
        return self.http.post(ROOT + path, json.dumps(body), content_type="application/json", secure=True,
                              **self._headers(extra))

    def patch(self, path, body, content_type="application/merge-patch+json", **extra):
        return self.http.patch(ROOT + path, json.dumps(body), content_type=content_type, secure=True,
                               **self._headers(extra))

    def publish(self, description, files=None, json_last=False, **extra):
        """POST publishMessage; ``files`` maps part names to (file name, bytes, media type)."""
        parts = {
            name: SimpleUploadedFile(file_name, content, content_type=media_type)
            for name, (file_name, content, media_type) in (files or {}).items()
        }
        text = description if isinstance(description, str) else json.dumps(description)
        data = {**parts, "messageToPublish": text} if json_last else {"messageToPublish": text, **parts}
        return self.http.post(ROOT + "publishMessage", data, secure=True, **self._headers(extra))


def description(recipient=A, **overrides) -> dict:
    """A valid messageToPublish with one main PDF in upfile1 (override anything)."""
    base = {
        "recipient": ... if recipient is ... else {"eboxType": "enterprise", "eboxIdValue": recipient},
        "subject": {"fr": "Attestation trimestrielle"},
        "messageTypeId": "ATTEST",
        "senderOrganizationId": ONSS,
        "senderApplicationId": "DMFA",
        "bodyMainContent": False,
        "replyAuthorized": False,
        "attachments": [{"httpPartName": "upfile1", "mainContent": True}],
    }
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not ...}


def pdf_part(content: bytes = PDF, name: str = "attestation.pdf") -> dict:
    return {"upfile1": (name, content, "application/pdf")}


@dataclass
class World:
    sender: Caller
    other_sender: Caller
    alice: Caller
    charlie: Caller
    alice_refdata_only: Caller
    anonymous: Client

    def publish_pdf(self, recipient=A, content=PDF, **overrides) -> str:
        response = self.sender.publish(description(recipient, **overrides), pdf_part(content))
        assert response.status_code == 201, response.content
        return response.json()["messageId"]


def _caller(http, keys, key_index, cbe, scope_list) -> Caller:
    key = keys[key_index]
    pem = certificate_pem(key)
    client, _ = oauth_services.create_client(cbe, pem, scope_list, "", ACTOR)
    credentials = ClientCredentials(client=client, private_key=key, certificate_pem=pem)
    response = request_token(http, credentials.assertion())
    assert response.status_code == 200, response.content
    return Caller(http=http, token=response.json()["access_token"], cbe=cbe, client_id=client.client_id)


def setup_reference_data():
    for cbe, name in ((ONSS, "ONSS"), (SPF, "SPF Finances"), (A, "Alice & Co"), (B, "Charlie SRL")):
        register_enterprise(cbe, name, ACTOR)
    reference.set_sender_organization(
        ONSS, ACTOR,
        short_name={"fr": "ONSS", "nl": "RSZ", "de": "LSS"},
        long_name={"fr": "Office national de sécurité sociale", "nl": "Rijksdienst voor Sociale Zekerheid"},
    )
    reference.set_sender_organization(SPF, ACTOR, short_name={"fr": "SPF Finances", "nl": "FOD Financiën"})
    reference.set_sender_application(
        "DMFA", ACTOR, name={"fr": "Déclaration multifonctionnelle"}, organizations=[ONSS],
        description={"nl": "Multifunctionele aangifte"},
    )
    reference.set_message_type(
        "ATTEST", ACTOR, name={"fr": "Attestation", "nl": "Attest", "de": "Bescheinigung"},
        validity_number=1, validity_unit="year", organizations=[ONSS], applications=["DMFA"],
    )
    reference.set_message_type(
        "REMINDER", ACTOR, name={"fr": "Rappel de paiement", "nl": "Betalingsherinnering"},
        validity_number=30, validity_unit="day", organizations=[ONSS, SPF],
    )


@pytest.fixture
def world(db, rsa_keys):  # noqa: F811
    setup_reference_data()
    http = Client()
    keys = list(rsa_keys)
    return World(
        sender=_caller(http, keys, 0, ONSS, [scopes.PUBLICATION_SENDER, scopes.REFERENCE_DATA]),
        other_sender=_caller(http, keys, 1, SPF, [scopes.PUBLICATION_SENDER]),
        alice=_caller(http, keys, 2, A, CONSUMER_SCOPES),
        charlie=_caller(http, keys, 0, B, CONSUMER_SCOPES),
        alice_refdata_only=_caller(http, keys, 1, A, [scopes.REFERENCE_DATA]),
        anonymous=http,
    )
