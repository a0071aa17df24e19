"""The agent SDK: what an agent is, what it gives back, and the errors it may raise (docs/agents.md).

An agent watches one account of a provider (a customer portal, a mailbox, another e-Box) for an
enterprise or a person and brings each new document into a space of Coffre. It is a small class
registered in ``coffre.agents.catalog`` (a plain list, no import magic) with:

- its description: ``id`` (stable, lower-case, ``[a-z0-9-]``), ``name``, ``provider``, ``logo``
  (a static file path), ``category`` (one of ``Category``), ``credential_fields`` (what the user
  types when adding it; which are secret), ``frequency`` (how often it syncs: every 3 days,
  monthly...), ``max_concurrent`` (connections of this agent synced at once on one installation,
  so that thousands of connections never hammer a provider);
- ``list_documents(session, cursor)``: the documents available since ``cursor`` (the opaque
  string the previous sync ended with, "" the first time), oldest first, each with the cursor to
  resume *after* it;
- ``download(session, document)``: one document's files and facts.

``open_session(credentials)`` (a context manager, by default yielding a ``Session`` holding the
credentials) is entered once per sync, around the listing and the downloads: an agent that logs in
does it there, once.

Agents raise only the errors below (``AgentError`` and its kinds); the sync engine turns anything
else into ``UNKNOWN_ERROR`` with the technical details kept for the support report. An agent never
logs credentials and never puts them in an error message.
"""

import enum
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

AGENT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


class Category(enum.StrEnum):
    """What kind of provider an agent fetches from (the catalog page's filter; translated there)."""

    ADMINISTRATION = "administration"  # e-Boxes, institutions
    ENERGY = "energy"
    TELECOM = "telecom"
    INSURANCE = "insurance"
    BANK = "bank"
    SUPPLIER = "supplier"
    MAILBOX = "mailbox"
    OTHER = "other"


CATEGORY_LABELS = {
    Category.ADMINISTRATION: _("Administration"),
    Category.ENERGY: _("Energy"),
    Category.TELECOM: _("Telecom and internet"),
    Category.INSURANCE: _("Insurance"),
    Category.BANK: _("Bank"),
    Category.SUPPLIER: _("Supplier"),
    Category.MAILBOX: _("Mailbox"),
    Category.OTHER: _("Other"),
}


class FieldKind(enum.StrEnum):
    TEXT = "text"
    EMAIL = "email"
    PASSWORD = "password"
    URL = "url"
    NUMBER = "number"
    MULTILINE = "multiline"  # several lines: a PEM key or certificate (a text area)


@dataclass(frozen=True)
class CredentialField:
    """One thing the user gives when adding the agent. ``secret``: encrypted at rest like every
    credential, and also never shown again (only replaced); a non-secret field (a login name, a
    host) is shown back to the user."""

    name: str  # the key in the credentials dict
    label: str  # translated (gettext_lazy)
    kind: FieldKind = FieldKind.TEXT
    secret: bool = False
    required: bool = True
    help_text: str = ""


@dataclass(frozen=True)
class RemoteDocument:
    """A document the provider lists. ``remote_id`` is the provider's own id for it (stable across
    listings): with the connection, it identifies the document, so that a document listed again is
    never stored twice. ``cursor``: where the next sync resumes when this one is the last stored."""

    remote_id: str
    cursor: str
    title: str = ""
    issued_on: date | None = None
    amount: Decimal | None = None
    currency: str = ""
    details: dict = field(default_factory=dict)  # JSON-serialisable facts for ``download``


@dataclass(frozen=True)
class RemoteFile:
    file_name: str
    media_type: str
    content: bytes


@dataclass(frozen=True)
class PaymentFacts:
    """What a document asks to be paid, as the provider gives it (all optional)."""

    amount: Decimal | None = None  # VAT excluded, as the e-Box paymentData
    vat_amount: Decimal | None = None
    currency: str = ""
    due_date: date | None = None
    iban: str = ""
    bic: str = ""
    reference: str = ""
    beneficiary: str = ""
    direct_debit: bool = False


@dataclass(frozen=True)
class FetchedDocument:
    """One document, downloaded: its files (the first is the main content) and its facts."""

    files: tuple[RemoteFile, ...]
    subject: str = ""
    sender_name: str = ""  # who sent it (the provider, or the e-Box sender organization's name)
    sender_id: str = ""  # the provider's id of the sender (an e-Box sender organization's CBE...)
    message_type: str = ""
    issued_at: datetime | None = None
    expires_at: datetime | None = None
    payment: PaymentFacts | None = None
    details: dict = field(default_factory=dict)  # JSON-serialisable, kept with the document


# --- errors --------------------------------------------------------------------------------------


class UserAction(enum.StrEnum):
    """Why a person must act on the provider's site before the agent can go on."""

    ACCEPT_TERMS = "accept-terms"
    CHANGE_PASSWORD = "change-password"
    TWO_FACTOR = "two-factor"
    CONTACT_PROVIDER = "contact-provider"


class AgentError(Exception):
    """Base of what an agent raises. ``message``: one English sentence for the operator and the
    support report, never holding a credential; the person sees the translated text of the status."""

    status = "UNKNOWN_ERROR"

    def __init__(self, message: str = ""):
        super().__init__(message)
        self.message = message


class LoginFailed(AgentError):
    """The provider refused the credentials: never retried until the person replaces them."""

    status = "LOGIN_FAILED"


class UserActionNeeded(AgentError):
    """The provider asks a person to do something first (``action``): never retried until the
    person says it is done (or replaces the credentials)."""

    status = "USER_ACTION_NEEDED"

    def __init__(self, action: UserAction, message: str = ""):
        super().__init__(message)
        self.action = UserAction(action)


class VendorDown(AgentError):
    """The provider's site is unavailable (5xx, maintenance page, timeout): retried with backoff."""

    status = "VENDOR_DOWN"


class UnknownAgentError(AgentError):
    """Anything else the agent understood as a failure (a page it does not recognise): retried
    with backoff, and the person may report it to support."""

    status = "UNKNOWN_ERROR"


# --- agents --------------------------------------------------------------------------------------


@dataclass
class Session:
    """What an agent keeps during one sync: the credentials, and whatever it opens (an HTTP client,
    an IMAP connection) in ``state``."""

    credentials: dict
    state: dict = field(default_factory=dict)


class Agent(ABC):
    """Subclass, fill the description and implement ``list_documents`` and ``download``."""

    id: str = ""
    name: str = ""
    provider: str = ""
    logo: str = "coffre/agents/generic.svg"  # a static file
    category: Category = Category.OTHER
    credential_fields: tuple[CredentialField, ...] = ()
    frequency: timedelta = timedelta(days=3)
    max_concurrent: int = 4
    description: str = ""  # translated, one sentence

    @contextmanager
    def open_session(self, credentials: dict) -> Iterator[Session]:
        """Log in (or whatever one sync needs first); the default keeps the credentials only."""
        yield Session(credentials=dict(credentials))

    @abstractmethod
    def list_documents(self, session: Session, cursor: str) -> Iterator[RemoteDocument]:
        """The documents available since ``cursor``, oldest first."""

    @abstractmethod
    def download(self, session: Session, document: RemoteDocument) -> FetchedDocument:
        """The files and facts of one listed document."""

    # --- for the catalog and the forms ---

    def secret_fields(self) -> frozenset[str]:
        return frozenset(item.name for item in self.credential_fields if item.secret)

    def check_description(self) -> None:
        """Raises ValueError when the description is incomplete (the catalog checks each agent)."""
        if not AGENT_ID.match(self.id or ""):
            raise ValueError(f"agent id {self.id!r} must match {AGENT_ID.pattern}")
        if not (self.name and self.provider):
            raise ValueError(f"agent {self.id}: name and provider are required")
        if self.frequency < timedelta(hours=1):
            raise ValueError(f"agent {self.id}: a frequency under one hour would hammer the provider")
        if self.max_concurrent < 1:
            raise ValueError(f"agent {self.id}: max_concurrent must be at least 1")
        names = [item.name for item in self.credential_fields]
        if len(names) != len(set(names)):
            raise ValueError(f"agent {self.id}: credential field names repeat")
