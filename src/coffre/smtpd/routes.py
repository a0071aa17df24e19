"""Where a mail received by ``coffre smtpd`` goes, decided by its recipient address.

A route is one class implementing ``Route`` and registered in ``ROUTES`` (tried in order): it
says whether it takes a recipient (``accepts``, at RCPT TO, without the database), may refuse one
it takes after a look in the database (``refusal``, still at RCPT TO), and handles the message for
the recipients it took (after DATA, synchronously, with the database): ``handle`` once per
recipient, or ``handle_message`` once for all of them when the route answers the message itself
(an SMTP reply such as ``550 5.7.1``; None is ``250``). A recipient no route takes is refused
with 550. The routes: the bounce addresses of Coffre's outgoing mail, and the addresses of the
spaces (documents by e-mail, ``coffre.intake.pipeline``).

A route that cannot handle a message now raises ``TemporaryFailure`` (the sending server gets a
4xx and retries); anything it accepts and ignores must be logged, never answered (no backscatter).
"""

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass

from coffre.intake import pipeline
from coffre.intake import selectors as intake_selectors
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
    helo: str = ""


class Route(ABC):
    name: str

    @abstractmethod
    def accepts(self, recipient: str) -> bool:
        """Whether this route takes mail for ``recipient`` (no database access: called at RCPT TO)."""

    def refusal(self, recipient: str) -> str | None:
        """An SMTP reply refusing a recipient this route takes (with the database, at RCPT TO), or
        None to take it."""
        return None

    @abstractmethod
    def handle(self, delivery: Delivery) -> None:
        """Handle the message (called after DATA, once per recipient taken, outside the event loop)."""

    def handle_message(self, deliveries: list[Delivery]) -> str | None:
        """Handle the message for all the recipients this route took; the SMTP reply to give, or
        None for ``250``. By default ``handle`` for each."""
        for delivery in deliveries:
            self.handle(delivery)
        return None


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


UNKNOWN_SPACE = (
    "550 5.1.1 No such address here: this is not (or no longer) the address of a space in Coffre;"
    " check the address shown in Coffre"
)
STORED = "250 2.0.0 Message accepted: its documents are stored"
WAITING = "250 2.0.0 Message accepted: it waits for an approval"
ACCEPTED = "250 2.0.0 Message accepted"
ONLY_OWN_ADDRESS = (
    "550 5.7.1 Refused: only the e-mail address of the account that owns this space can send"
    " documents to it"
)
TRY_LATER = "451 4.7.0 The sender could not be authenticated now (DNS), please try again later"


class IntakeRoute(Route):
    """The addresses of the spaces (``<name>.<space>.<random>@COFFRE_INTAKE_DOMAIN``): documents
    sent by e-mail, handed to ``coffre.intake.pipeline.receive``."""

    name = "intake"

    def accepts(self, recipient: str) -> bool:
        return intake_selectors.is_at_intake_domain(recipient)

    def refusal(self, recipient: str) -> str | None:
        return UNKNOWN_SPACE if intake_selectors.address_named(recipient) is None else None

    def handle(self, delivery: Delivery) -> None:
        self.handle_message([delivery])

    def handle_message(self, deliveries: list[Delivery]) -> str | None:
        first = deliveries[0]
        envelope = pipeline.Envelope(
            mail_from=first.mail_from,
            recipients=tuple(delivery.recipient for delivery in deliveries),
            client_ip=first.peer,
            helo=first.helo,
            received_via="smtp",
        )
        outcome = pipeline.receive(first.data, envelope)
        results = outcome.results()
        logger.info(
            "smtpd: intake mail from %s (%s): %s", first.peer,
            outcome.verdict.status if outcome.verdict else "-", ", ".join(sorted(results)),
        )
        if outcome.deferred:
            return TRY_LATER
        if results == {pipeline.Result.UNKNOWN}:  # replaced between RCPT TO and the end of DATA
            return UNKNOWN_SPACE
        if outcome.refused:
            return ONLY_OWN_ADDRESS
        if results == {pipeline.Result.STORED}:
            return STORED
        if results == {pipeline.Result.PENDING}:
            return WAITING
        return ACCEPTED


ROUTES: list[Route] = [BounceRoute(), IntakeRoute()]


def route_for(recipient: str, routes: list[Route] | None = None) -> Route | None:
    for route in ROUTES if routes is None else routes:
        if route.accepts(recipient):
            return route
    return None
