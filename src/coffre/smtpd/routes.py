"""Where a mail received by ``coffre smtpd`` goes, decided by its recipient address.

A route is one class implementing ``Route`` and registered in ``ROUTES`` (tried in order): it
says whether it takes a recipient (at RCPT TO, before any data) and handles the message for each
recipient it took (after DATA, synchronously, with the database). A recipient no route takes is
refused with 550. Today there is one route, the bounce addresses of Coffre's outgoing mail; the
document intake (issue 6) will add its own.

A route that cannot handle a message now raises ``TemporaryFailure`` (the sending server gets a
4xx and retries); anything it accepts and ignores must be logged, never answered (no backscatter).
"""

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass

from coffre.outbox import dsn
from coffre.outbox import services as outbox
from coffre.outbox.transport import bounce_token_of

logger = logging.getLogger("coffre.smtpd")


class TemporaryFailure(Exception):
    """The message cannot be handled now; the sender should try again later."""


@dataclass(frozen=True)
class Delivery:
    """One received message for one recipient a route took."""

    recipient: str
    mail_from: str
    data: bytes
    peer: str


class Route(ABC):
    name: str

    @abstractmethod
    def accepts(self, recipient: str) -> bool:
        """Whether this route takes mail for ``recipient`` (no database access: called at RCPT TO)."""

    @abstractmethod
    def handle(self, delivery: Delivery) -> None:
        """Handle the message (called after DATA, once per recipient taken, outside the event loop)."""


class BounceRoute(Route):
    """``bounces+<token>@COFFRE_BOUNCE_DOMAIN``: delivery status notifications of outgoing mail."""

    name = "bounce"

    def accepts(self, recipient: str) -> bool:
        return bounce_token_of(recipient) is not None

    def handle(self, delivery: Delivery) -> None:
        token = bounce_token_of(delivery.recipient) or ""
        report = dsn.read_report(delivery.data)
        outcome = outbox.record_bounce(token, report) if report.is_permanent_failure else "ignored"
        # The token is logged shortened: whole, it would let a reader of the logs forge a bounce.
        log = logger.warning if outcome == "unknown" else logger.info
        log(
            "smtpd: bounce to token %s… from %s (%s %s): %s",
            token[:8], delivery.peer, report.kind, report.status or "-", outcome,
        )


ROUTES: list[Route] = [BounceRoute()]


def route_for(recipient: str, routes: list[Route] | None = None) -> Route | None:
    for route in ROUTES if routes is None else routes:
        if route.accepts(recipient):
            return route
    return None
