"""A real agent for the tests: ``ShelfAgent`` serves the documents of a ``Shelf`` (a list the test
fills), logs in with a password, and fails on command with each error of the SDK, with a bare
exception, or by crashing the worker (KeyboardInterrupt, or ``os._exit`` in a subprocess) at a
chosen point of a sync.

The cursor is the position in the shelf: ``list_documents`` gives the documents after it, oldest
first, unless ``shelf.ignore_cursor`` (a provider that lists everything again each time).
"""

import os
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from coffre.agents.sdk import (
    Agent,
    Category,
    CredentialField,
    FetchedDocument,
    FieldKind,
    LoginFailed,
    PaymentFacts,
    RemoteDocument,
    RemoteFile,
    Session,
)

PASSWORD = "s3cret-Shelf-pass!"
LOGIN = "shelf-user@example.be"


def pdf(text: str) -> bytes:
    """A small PDF whose bytes hold ``text`` (each document its own content)."""
    body = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    return b"%PDF-1.4\n" + body + b"\n%%EOF\n"


@dataclass
class Item:
    remote_id: str
    content: bytes
    title: str = ""
    more: tuple[tuple[str, bytes], ...] = ()  # further files (name, content)
    payment: PaymentFacts | None = None
    expires_at: datetime | None = None


@dataclass
class Crash:
    """Where a sync dies: at listing the ``index``-th document (before it is given: between two
    documents) or at downloading it; how: "interrupt" (KeyboardInterrupt), "exit" (os._exit:
    nothing runs after it, for a subprocess), or an exception instance to raise."""

    index: int
    where: str = "download"  # "list" or "download"
    how: object = "interrupt"


@dataclass
class Shelf:
    items: list[Item] = field(default_factory=list)
    password: str = PASSWORD
    ignore_cursor: bool = False
    login_error: Exception | None = None  # raised by open_session
    list_error: Exception | None = None  # raised before the first document is listed
    download_errors: dict = field(default_factory=dict)  # remote_id -> exception
    crash: Crash | None = None
    gate: threading.Event | None = None  # when set, list_documents waits for it
    listed_in: threading.Event | None = None  # set when a sync starts listing
    on_login: object = None  # called first thing at each login (what happens meanwhile elsewhere)
    logins: int = 0
    downloads: list[str] = field(default_factory=list)

    def add(self, count: int, start: int | None = None, **extra) -> list[Item]:
        first = len(self.items) + 1 if start is None else start
        added = [
            Item(f"bill-{number}", pdf(f"Bill {number}"), title=f"Bill {number}", **extra)
            for number in range(first, first + count)
        ]
        self.items.extend(added)
        return added


def _crash(crash: Crash) -> None:
    if crash.how == "exit":
        os._exit(17)
    if crash.how == "interrupt":
        raise KeyboardInterrupt()
    raise crash.how


class ShelfAgent(Agent):
    id = "test-shelf"
    name = "Shelf test agent"
    provider = "Shelf & Co"
    category = Category.SUPPLIER
    credential_fields = (
        CredentialField("login", "Login", FieldKind.EMAIL),
        CredentialField("password", "Password", FieldKind.PASSWORD, secret=True),
        CredentialField("contract", "Contract number", FieldKind.NUMBER, required=False),
    )
    frequency = timedelta(days=3)
    max_concurrent = 2

    def __init__(self, shelf: Shelf | None = None):
        self.shelf = shelf or Shelf()

    def open_session(self, credentials: dict):
        shelf = self.shelf
        if shelf.on_login is not None:
            shelf.on_login()
        if shelf.login_error is not None:
            raise shelf.login_error
        if credentials.get("password") != shelf.password:
            raise LoginFailed("the portal said: wrong login or password")
        shelf.logins += 1
        return super().open_session(credentials)

    def list_documents(self, session: Session, cursor: str):
        shelf = self.shelf
        if shelf.listed_in is not None:
            shelf.listed_in.set()
        if shelf.gate is not None:
            shelf.gate.wait(30)
        if shelf.list_error is not None:
            raise shelf.list_error
        start = 0 if shelf.ignore_cursor or not cursor else int(cursor)
        for index in range(start, len(shelf.items)):
            if shelf.crash and shelf.crash.where == "list" and shelf.crash.index == index:
                _crash(shelf.crash)
            item = shelf.items[index]
            yield RemoteDocument(
                remote_id=item.remote_id,
                cursor=str(index + 1),
                title=item.title,
                issued_on=date(2026, 1, 1) + timedelta(days=index),
                amount=Decimal("12.50"),
                currency="EUR",
                details={"index": index},
            )

    def download(self, session: Session, document: RemoteDocument) -> FetchedDocument:
        shelf = self.shelf
        index = document.details["index"]
        if shelf.crash and shelf.crash.where == "download" and shelf.crash.index == index:
            _crash(shelf.crash)
        if document.remote_id in shelf.download_errors:
            raise shelf.download_errors[document.remote_id]
        item = shelf.items[index]
        shelf.downloads.append(item.remote_id)
        files = (RemoteFile(f"{item.remote_id}.pdf", "application/pdf", item.content),) + tuple(
            RemoteFile(name, "application/pdf", content) for name, content in item.more
        )
        return FetchedDocument(
            files=files,
            subject=item.title,
            sender_name="Shelf & Co",
            payment=item.payment,
            expires_at=item.expires_at,
            details={"page": index // 10},
        )
