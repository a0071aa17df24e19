"""The rules of seed 002 and issue 6, point 3: what becomes of a mail sent to a space.

Pure functions of the facts (the verdict of sender authentication, what the From address is to
the box), so that every rule is tested alone, in a table. They decide; they read nothing, store
nothing and tell no one (``coffre.intake.pipeline`` does, from the ``Ruling``).

"My documents" (a person's box):

- from the account's own address, authenticated (``pass``) -> stored;
- from the account's own address, unauthenticated (``none`` or ``disabled``) -> waits for the
  owner's one-click approval in the portal;
- from any other address, from the own address with a failing verdict (the domain says the mail
  is not its own), or without a usable From -> refused: only the account's address can send there.

An enterprise's box ("Documents") or "Purchases":

- a blacklisted address -> dropped without reply, whatever the verdict;
- authenticated, from a person who holds a role in the enterprise or a firm collaborator who has
  it in favourites -> stored;
- authenticated, from an address already authorized -> stored;
- authenticated, from a firm collaborator without the favourite -> waits, for a collaborator
  attached to the enterprise;
- anything else (an unknown address, an unauthenticated or failing one, no usable From) -> waits,
  for the enterprise's client admin.

A ``temperror`` verdict is deferred when the mail can be deferred (SMTP: ``451``, the sending
server tries again); where it cannot (IMAP polling) it counts as ``none``.
"""

import enum
from dataclasses import dataclass

from coffre.intake.authentication import Status

UNAUTHENTICATED = frozenset({Status.NONE, Status.DISABLED})


class Decision(enum.StrEnum):
    STORE = "store"
    PENDING = "pending"
    REFUSE = "refuse"  # My documents: not the account's address
    DROP = "drop"  # a blacklisted sender: no reply
    DEFER = "defer"  # temperror over SMTP: try again later


class Approver(enum.StrEnum):
    """Who decides about a waiting mail (the values of ``intake.models.Approvers``)."""

    OWNER = "owner"
    CLIENT_ADMIN = "client_admin"
    ATTACHED_COLLABORATORS = "attached_collaborators"


class Rule(enum.StrEnum):
    """Which rule decided: a stable name, recorded in the activity (the portal translates it)."""

    DEFERRED = "temperror-deferred"
    OWN_ADDRESS = "own-address"
    OWN_ADDRESS_UNAUTHENTICATED = "own-address-unauthenticated"
    NOT_OWN_ADDRESS = "not-own-address"
    NO_SENDER = "no-sender"
    BLACKLISTED = "blacklisted"
    INSIDER = "role-in-enterprise"
    FAVOURITE = "collaborator-favourite"
    AUTHORIZED = "authorized-address"
    COLLABORATOR_WITHOUT_FAVOURITE = "collaborator-without-favourite"
    UNKNOWN = "unknown-address"
    UNAUTHENTICATED = "unauthenticated"
    AUTHENTICATION_FAILED = "authentication-failed"


@dataclass(frozen=True)
class Ruling:
    decision: Decision
    rule: Rule
    approver: Approver | None = None  # for PENDING


@dataclass(frozen=True)
class SenderFacts:
    """What the From address is to an enterprise."""

    status: str | None = None  # its SenderApproval status ("authorized", ...), None if never seen
    holds_role: bool = False  # the person with this address holds a role in the enterprise
    collaborator: bool = False  # works for a firm with the enterprise in its portfolio
    favourite: bool = False  # ... and has it in favourites


def effective_status(status: Status | str, *, deferrable: bool) -> Status:
    """``temperror`` where nothing can be deferred counts as ``none`` (IMAP polling)."""
    status = Status(status)
    if status == Status.TEMPERROR and not deferrable:
        return Status.NONE
    return status


def same_address(one: str | None, other: str | None) -> bool:
    return bool(one) and bool(other) and one.strip().lower() == other.strip().lower()


def for_personal_box(
    status: Status | str, from_address: str | None, owner_address: str, *, deferrable: bool
) -> Ruling:
    """The ruling for a mail to "My documents" of the person whose address is ``owner_address``."""
    status = effective_status(status, deferrable=deferrable)
    if status == Status.TEMPERROR:
        return Ruling(Decision.DEFER, Rule.DEFERRED)
    if not from_address:
        return Ruling(Decision.REFUSE, Rule.NO_SENDER)
    if not same_address(from_address, owner_address):
        return Ruling(Decision.REFUSE, Rule.NOT_OWN_ADDRESS)
    if status == Status.PASS:
        return Ruling(Decision.STORE, Rule.OWN_ADDRESS)
    if status in UNAUTHENTICATED:
        return Ruling(Decision.PENDING, Rule.OWN_ADDRESS_UNAUTHENTICATED, Approver.OWNER)
    # A failing verdict: the domain publishes authentication and this mail does not pass it.
    return Ruling(Decision.REFUSE, Rule.AUTHENTICATION_FAILED)


def for_enterprise(
    status: Status | str, from_address: str | None, facts: SenderFacts, *, deferrable: bool
) -> Ruling:
    """The ruling for a mail to an enterprise's box or its Purchases."""
    status = effective_status(status, deferrable=deferrable)
    if from_address and facts.status == "blacklisted":
        return Ruling(Decision.DROP, Rule.BLACKLISTED)
    if status == Status.TEMPERROR:
        return Ruling(Decision.DEFER, Rule.DEFERRED)
    if not from_address:
        return Ruling(Decision.PENDING, Rule.NO_SENDER, Approver.CLIENT_ADMIN)
    if status != Status.PASS:
        rule = Rule.UNAUTHENTICATED if status in UNAUTHENTICATED else Rule.AUTHENTICATION_FAILED
        return Ruling(Decision.PENDING, rule, Approver.CLIENT_ADMIN)
    if facts.holds_role:
        return Ruling(Decision.STORE, Rule.INSIDER)
    if facts.collaborator and facts.favourite:
        return Ruling(Decision.STORE, Rule.FAVOURITE)
    if facts.status == "authorized":
        return Ruling(Decision.STORE, Rule.AUTHORIZED)
    if facts.collaborator:
        return Ruling(Decision.PENDING, Rule.COLLABORATOR_WITHOUT_FAVOURITE, Approver.ATTACHED_COLLABORATORS)
    return Ruling(Decision.PENDING, Rule.UNKNOWN, Approver.CLIENT_ADMIN)
