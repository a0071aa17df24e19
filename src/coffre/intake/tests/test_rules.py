"""The rules of seed 002 (coffre.intake.rules), one row per case: the facts, then the ruling."""

import pytest

from coffre.intake.rules import Approver, Decision, Rule, SenderFacts, for_enterprise, for_personal_box

OWNER = "alice@fidu-lebrun.be"
OTHER = "someone@example.be"

PERSONAL = [
    # verdict, From address, deferrable -> decision, rule, approver
    ("pass", OWNER, True, Decision.STORE, Rule.OWN_ADDRESS, None),
    ("pass", "Alice@Fidu-Lebrun.be", True, Decision.STORE, Rule.OWN_ADDRESS, None),
    ("none", OWNER, True, Decision.PENDING, Rule.OWN_ADDRESS_UNAUTHENTICATED, Approver.OWNER),
    ("disabled", OWNER, True, Decision.PENDING, Rule.OWN_ADDRESS_UNAUTHENTICATED, Approver.OWNER),
    ("fail", OWNER, True, Decision.REFUSE, Rule.AUTHENTICATION_FAILED, None),
    ("pass", OTHER, True, Decision.REFUSE, Rule.NOT_OWN_ADDRESS, None),
    ("none", OTHER, True, Decision.REFUSE, Rule.NOT_OWN_ADDRESS, None),
    ("fail", None, True, Decision.REFUSE, Rule.NO_SENDER, None),
    ("temperror", OWNER, True, Decision.DEFER, Rule.DEFERRED, None),
    ("temperror", OTHER, True, Decision.DEFER, Rule.DEFERRED, None),
    # IMAP polling cannot defer: a temperror counts as "none".
    ("temperror", OWNER, False, Decision.PENDING, Rule.OWN_ADDRESS_UNAUTHENTICATED, Approver.OWNER),
    ("temperror", OTHER, False, Decision.REFUSE, Rule.NOT_OWN_ADDRESS, None),
]


@pytest.mark.parametrize("status, sender, deferrable, decision, rule, approver", PERSONAL)
def test_my_documents(status, sender, deferrable, decision, rule, approver):
    ruling = for_personal_box(status, sender, OWNER, deferrable=deferrable)
    assert (ruling.decision, ruling.rule, ruling.approver) == (decision, rule, approver)


UNKNOWN = SenderFacts()
INSIDER = SenderFacts(holds_role=True)
FAVOURITE = SenderFacts(collaborator=True, favourite=True)
COLLABORATOR = SenderFacts(collaborator=True)
AUTHORIZED = SenderFacts(status="authorized")
AUTHORIZED_COLLABORATOR = SenderFacts(status="authorized", collaborator=True)
REFUSED = SenderFacts(status="refused")
PENDING = SenderFacts(status="pending")
BLACKLISTED = SenderFacts(status="blacklisted")
BLACKLISTED_FAVOURITE = SenderFacts(status="blacklisted", collaborator=True, favourite=True)

ENTERPRISE = [
    # verdict, From address, facts, deferrable -> decision, rule, approver
    ("pass", OTHER, INSIDER, True, Decision.STORE, Rule.INSIDER, None),
    ("pass", OTHER, FAVOURITE, True, Decision.STORE, Rule.FAVOURITE, None),
    ("pass", OTHER, AUTHORIZED, True, Decision.STORE, Rule.AUTHORIZED, None),
    ("pass", OTHER, AUTHORIZED_COLLABORATOR, True, Decision.STORE, Rule.AUTHORIZED, None),
    (
        "pass",
        OTHER,
        COLLABORATOR,
        True,
        Decision.PENDING,
        Rule.COLLABORATOR_WITHOUT_FAVOURITE,
        Approver.ATTACHED_COLLABORATORS,
    ),
    ("pass", OTHER, UNKNOWN, True, Decision.PENDING, Rule.UNKNOWN, Approver.CLIENT_ADMIN),
    ("pass", OTHER, PENDING, True, Decision.PENDING, Rule.UNKNOWN, Approver.CLIENT_ADMIN),
    # A refused address asks again.
    ("pass", OTHER, REFUSED, True, Decision.PENDING, Rule.UNKNOWN, Approver.CLIENT_ADMIN),
    # Approved or favourite, but not authenticated: the client admin decides (anyone can write it).
    ("none", OTHER, AUTHORIZED, True, Decision.PENDING, Rule.UNAUTHENTICATED, Approver.CLIENT_ADMIN),
    ("none", OTHER, FAVOURITE, True, Decision.PENDING, Rule.UNAUTHENTICATED, Approver.CLIENT_ADMIN),
    ("disabled", OTHER, INSIDER, True, Decision.PENDING, Rule.UNAUTHENTICATED, Approver.CLIENT_ADMIN),
    ("fail", OTHER, FAVOURITE, True, Decision.PENDING, Rule.AUTHENTICATION_FAILED, Approver.CLIENT_ADMIN),
    ("fail", OTHER, COLLABORATOR, True, Decision.PENDING, Rule.AUTHENTICATION_FAILED, Approver.CLIENT_ADMIN),
    ("fail", None, UNKNOWN, True, Decision.PENDING, Rule.NO_SENDER, Approver.CLIENT_ADMIN),
    # Blacklisted: dropped, whatever the verdict, even a temperror and a favourite.
    ("pass", OTHER, BLACKLISTED, True, Decision.DROP, Rule.BLACKLISTED, None),
    ("fail", OTHER, BLACKLISTED, True, Decision.DROP, Rule.BLACKLISTED, None),
    ("temperror", OTHER, BLACKLISTED, True, Decision.DROP, Rule.BLACKLISTED, None),
    ("pass", OTHER, BLACKLISTED_FAVOURITE, True, Decision.DROP, Rule.BLACKLISTED, None),
    ("temperror", OTHER, FAVOURITE, True, Decision.DEFER, Rule.DEFERRED, None),
    ("temperror", OTHER, UNKNOWN, False, Decision.PENDING, Rule.UNAUTHENTICATED, Approver.CLIENT_ADMIN),
]


@pytest.mark.parametrize("status, sender, facts, deferrable, decision, rule, approver", ENTERPRISE)
def test_an_enterprises_spaces(status, sender, facts, deferrable, decision, rule, approver):
    ruling = for_enterprise(status, sender, facts, deferrable=deferrable)
    assert (ruling.decision, ruling.rule, ruling.approver) == (decision, rule, approver)


def test_an_unknown_verdict_is_a_programming_error():
    with pytest.raises(ValueError):
        for_enterprise("maybe", OTHER, UNKNOWN, deferrable=True)
