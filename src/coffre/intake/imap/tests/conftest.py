"""A real Dovecot for the IMAP tests (one per run), a fresh mailbox user per test, and sources."""

import itertools
import secrets
from dataclasses import dataclass

import pytest

from coffre.audit.services import Actor
from coffre.intake.imap import services
from coffre.testing.imap import Dovecot

_users = itertools.count(1)


@pytest.fixture(scope="session")
def dovecot():
    with Dovecot() as server:
        yield server


@dataclass
class Mailbox:
    server: Dovecot
    user: str
    password: str

    def append(self, *messages: bytes, folder: str = "INBOX") -> None:
        self.server.append(self.user, self.password, folder, *messages)

    def recreate(self, folder: str, *messages: bytes) -> None:
        self.server.recreate_folder(self.user, self.password, folder, *messages)


@pytest.fixture
def mailbox(dovecot) -> Mailbox:
    return Mailbox(dovecot, f"factures{next(_users)}-{secrets.token_hex(3)}@client.example", dovecot.password)


@pytest.fixture
def add_source(db, dovecot):
    def add(
        box: Mailbox, *, security="plain", folder="INBOX", password=None, target="documents-k7q2", **extra
    ):
        port = extra.pop("port", dovecot.imaps_port if security == "tls" else dovecot.imap_port)
        source, _created = services.add_source(
            target=target,
            host="127.0.0.1",
            port=port,
            security=security,
            username=box.user,
            password=box.password if password is None else password,
            folder=folder,
            ca_certificate=extra.pop("ca_certificate", dovecot.ca_pem if security != "plain" else ""),
            actor=Actor.cli("test"),
            **extra,
        )
        return source

    return add


def mail(number: int, **headers) -> bytes:
    lines = {
        "Return-Path": "<bounce@sender.example>",
        "Received": "from mx.sender.example (mx.sender.example [192.0.2.25]) by imap.client.example",
        "From": "Fournisseur <factures@sender.example>",
        "Subject": f"Facture {number}",
        "Message-ID": f"<facture-{number}@sender.example>",
        **headers,
    }
    head = "".join(f"{name}: {value}\r\n" for name, value in lines.items())
    return f"{head}\r\nFacture numero {number}\r\n".encode()
