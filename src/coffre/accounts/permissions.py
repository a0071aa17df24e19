"""Who may do what in an enterprise: the permission matrix, enforced for every view and action.

A person's standing in an enterprise is their ``Membership`` role, or ``collaborator`` when the
enterprise is in the portfolio of an accounting firm they work for. ``MATRIX`` lists, for each
action, the standings allowed; docs/permissions.md shows the same table (a test keeps them equal).

``require`` answers 404 to a person with no standing at all in the enterprise (its existence is
not disclosed) and 403 to one whose role does not allow the action.

Senders of documents by e-mail (seed 002) are accepted, refused, blacklisted and un-blacklisted by
the approvers the seed names: the enterprise's client admin (unknown and unauthenticated
addresses) and the collaborators attached to the enterprise (addresses of the firms'
collaborators). ``MATRIX`` lets the standings such people can have through; ``require_sender_approver``
then checks that the person is one of them (403 otherwise).

Reporting suspicious activity about a business-account link is not an enterprise action: the
linked person reports from their own list of links, the account's contacts from the e-mailed
link (docs/permissions.md, "Pages outside the matrix").
"""

from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from coffre.accounts.models import Assignment, ClientFile, Collaborator, Enterprise, Membership, Role

COLLABORATOR = "collaborator"  # a collaborator of an accounting firm that has the enterprise as client
MANAGERS = frozenset({Role.PRINCIPAL, Role.CO_PRINCIPAL, Role.MANAGER, Role.CO_MANAGER})
PRINCIPALS = frozenset({Role.PRINCIPAL, Role.CO_PRINCIPAL})
INSIDERS = MANAGERS | {Role.MEMBER}
READERS = INSIDERS | {Role.ACCOUNTANT, COLLABORATOR}
# Access managers must use two-factor authentication (issue 4).
TWO_FACTOR_ROLES = MANAGERS


class Action(StrEnum):
    VIEW_MESSAGES = "view messages"
    DOWNLOAD = "download documents"
    HIDE_MESSAGES = "hide and show messages"
    MANAGE_EBOX = "e-Box management (notification address, anti-phishing phrase)"
    MANAGE_MEMBERS = "invite and remove members and accountants"
    MANAGE_MANAGERS = "grant and revoke access manager roles"
    MANAGE_CO_PRINCIPALS = "grant and revoke the co-principal access manager role"
    TRANSFER_PRINCIPAL = "hand over the principal access manager role"
    GRANT_FIRM = "give an accounting firm access"
    VIEW_SECURITY_LOG = "read the security log"
    LEAVE = "leave the enterprise"
    # Senders of documents by e-mail (seed 002, the "E-mail access" page): the approvers only.
    ACCEPT_SENDERS = "accept senders of documents by e-mail (the approvers)"
    REFUSE_SENDERS = "refuse senders of documents by e-mail (the approvers)"
    BLACKLIST_SENDERS = "blacklist senders of documents by e-mail (the approvers)"
    LIFT_BLACKLIST = "lift the blacklist of a sender (the approvers)"
    REGENERATE_INTAKE_ADDRESSES = "regenerate the e-mail addresses of the enterprise's spaces"
    # Agents (issue 7): the connections that fetch documents into the enterprise's spaces.
    VIEW_AGENTS = "see the enterprise's agents, their status and history"
    SYNC_AGENTS = "sync an agent now, report its error to support"
    MANAGE_AGENTS = "add and remove agents, replace their credentials"


class SenderApprover(StrEnum):
    """Who decides about a sender of documents by e-mail to an enterprise (seed 002)."""

    CLIENT_ADMIN = "client_admin"  # unknown, unauthenticated or failing addresses
    ATTACHED_COLLABORATORS = "attached_collaborators"  # a firm collaborator without the favourite


# The client admin is one of the enterprise's insiders (selectors_firms.client_admin_candidates);
# an attached collaborator is a collaborator of a firm with the enterprise in its portfolio (or an
# insider who also works for such a firm: a role comes first).
SENDER_APPROVER_STANDINGS = INSIDERS | {COLLABORATOR}


MATRIX: dict[Action, frozenset[str]] = {
    Action.VIEW_MESSAGES: READERS,
    Action.DOWNLOAD: READERS,
    Action.HIDE_MESSAGES: INSIDERS,
    Action.MANAGE_EBOX: MANAGERS,
    Action.MANAGE_MEMBERS: MANAGERS,
    Action.MANAGE_MANAGERS: PRINCIPALS,
    Action.MANAGE_CO_PRINCIPALS: frozenset({Role.PRINCIPAL}),
    Action.TRANSFER_PRINCIPAL: frozenset({Role.PRINCIPAL}),
    Action.GRANT_FIRM: MANAGERS,
    Action.VIEW_SECURITY_LOG: MANAGERS,
    # The principal hands the role over first; a firm's collaborator holds no role to leave (the
    # firm's access is taken back by the enterprise's access managers, GRANT_FIRM).
    Action.LEAVE: READERS - {Role.PRINCIPAL, COLLABORATOR},
    # The same set for the four decisions (issue 6): within it, require_sender_approver.
    Action.ACCEPT_SENDERS: SENDER_APPROVER_STANDINGS,
    Action.REFUSE_SENDERS: SENDER_APPROVER_STANDINGS,
    Action.BLACKLIST_SENDERS: SENDER_APPROVER_STANDINGS,
    Action.LIFT_BLACKLIST: SENDER_APPROVER_STANDINGS,
    Action.REGENERATE_INTAKE_ADDRESSES: MANAGERS,
    # Agents hold the enterprise's accounts at providers: the insiders see them and may ask for a
    # sync; the access managers hand over (and take back) those accounts' credentials. Accountants
    # and firms' collaborators read the documents the agents bring, not the accounts.
    Action.VIEW_AGENTS: INSIDERS,
    Action.SYNC_AGENTS: INSIDERS,
    Action.MANAGE_AGENTS: MANAGERS,
}
SENDER_DECISIONS = frozenset(
    {Action.ACCEPT_SENDERS, Action.REFUSE_SENDERS, Action.BLACKLIST_SENDERS, Action.LIFT_BLACKLIST}
)
STANDINGS = [*Role.values, COLLABORATOR]
# The action that grants, changes or takes away each role. The principal role is never granted
# this way: it only changes hands (Action.TRANSFER_PRINCIPAL).
ROLE_ACTIONS: dict[str, Action] = {
    Role.MEMBER: Action.MANAGE_MEMBERS,
    Role.ACCOUNTANT: Action.MANAGE_MEMBERS,
    Role.MANAGER: Action.MANAGE_MANAGERS,
    Role.CO_MANAGER: Action.MANAGE_MANAGERS,
    Role.CO_PRINCIPAL: Action.MANAGE_CO_PRINCIPALS,
}


def standing(user, enterprise: Enterprise) -> str | None:
    """The person's role in the enterprise, ``collaborator``, or None."""
    if not getattr(user, "is_authenticated", False) or not enterprise.active:
        return None
    role = Membership.objects.filter(user=user, enterprise=enterprise).values_list("role", flat=True).first()
    if role is not None:
        return role
    if ClientFile.objects.filter(enterprise=enterprise, firm__collaborators__user=user).exists():
        return COLLABORATOR
    return None


def allowed(role: str | None, action: Action) -> bool:
    return role is not None and role in MATRIX[action]


def may_assign(standing_: str | None, role: str) -> bool:
    """Whether a person of this standing may grant (or take away) ``role``."""
    return role in ROLE_ACTIONS and allowed(standing_, ROLE_ACTIONS[role])


def assignable_roles(standing_: str | None) -> list[str]:
    return [role for role in Role.values if may_assign(standing_, role)]


def can(user, action: Action, enterprise: Enterprise) -> bool:
    return allowed(standing(user, enterprise), action)


def require(user, action: Action, enterprise: Enterprise) -> str:
    """The person's standing, when it allows ``action``; else 404 (no standing) or 403."""
    role = standing(user, enterprise)
    if role is None:
        raise Http404("no such enterprise")
    if not allowed(role, action):
        raise PermissionDenied(f"{role} may not {action}")
    return role


def sender_approver_of(user, enterprise: Enterprise) -> frozenset[SenderApprover]:
    """Which approvers of senders of documents by e-mail the person is in the enterprise: its
    client admin, a collaborator attached to it (``Assignment``), both, or none."""
    if not getattr(user, "is_authenticated", False) or not enterprise.active:
        return frozenset()
    from coffre.accounts.selectors_firms import client_admin_of  # it imports this module

    kinds = set()
    admin = client_admin_of(enterprise)
    if admin is not None and admin.pk == user.pk:
        kinds.add(SenderApprover.CLIENT_ADMIN)
    if Assignment.objects.filter(collaborator__user=user, client_file__enterprise=enterprise).exists():
        kinds.add(SenderApprover.ATTACHED_COLLABORATORS)
    return frozenset(kinds)


def require_sender_approver(
    user, action: Action, enterprise: Enterprise
) -> tuple[str, frozenset[SenderApprover]]:
    """The person's standing and approver kinds, when ``action`` (one of ``SENDER_DECISIONS``) is
    allowed: 404 without standing, 403 when the standing does not allow it or the person is not
    one of the approvers."""
    if action not in SENDER_DECISIONS:
        raise ValueError(f"{action} is not a decision about senders")
    role = require(user, action, enterprise)
    kinds = sender_approver_of(user, enterprise)
    if not kinds:
        raise PermissionDenied(f"{role} is not an approver of senders here")
    return role, kinds


def enterprises_of(user) -> QuerySet[Enterprise]:
    """The enterprises whose e-Box the person may read: own roles and the firms' portfolios."""
    if not getattr(user, "is_authenticated", False):
        return Enterprise.objects.none()
    return (
        Enterprise.objects.filter(active=True)
        .filter(Q(memberships__user=user) | Q(client_files__firm__collaborators__user=user))
        .distinct()
        .order_by("name")
    )


def needs_two_factor(user) -> bool:
    """True when the person holds an access manager role somewhere (then TOTP is compulsory)."""
    return Membership.objects.filter(user=user, role__in=TWO_FACTOR_ROLES, enterprise__active=True).exists()


def matrix_table() -> str:
    """The matrix as a Markdown table (docs/permissions.md carries it)."""
    header = "| action | " + " | ".join(STANDINGS) + " |"
    rule = "|---|" + "---|" * len(STANDINGS)
    rows = [
        f"| {action.value} | " + " | ".join("yes" if role in MATRIX[action] else "no" for role in STANDINGS) + " |"
        for action in Action
    ]
    return "\n".join([header, rule, *rows])


# --- accounting firms (seed 002) -------------------------------------------------------------------
# A firm's own pages (its collaborators, its portfolio) are not an enterprise's: a person's standing
# there is ``firm admin`` or ``firm collaborator`` (a ``Collaborator`` row), else none (404).

FIRM_ADMIN = "firm admin"
FIRM_COLLABORATOR = "firm collaborator"
FIRM_STANDINGS = [FIRM_ADMIN, FIRM_COLLABORATOR]


class FirmAction(StrEnum):
    VIEW_PORTFOLIO = "see the firm's portfolio, its collaborators and who is attached to each client"
    FAVOURITE = "mark client files as favourites (one's own)"
    ATTACH = "attach and detach collaborators to client files"
    MANAGE_COLLABORATORS = "add and remove the firm's collaborators"


FIRM_MATRIX: dict[FirmAction, frozenset[str]] = {
    FirmAction.VIEW_PORTFOLIO: frozenset({FIRM_ADMIN, FIRM_COLLABORATOR}),
    FirmAction.FAVOURITE: frozenset({FIRM_ADMIN, FIRM_COLLABORATOR}),
    FirmAction.ATTACH: frozenset({FIRM_ADMIN}),
    FirmAction.MANAGE_COLLABORATORS: frozenset({FIRM_ADMIN}),
}


def firm_collaborator(user, firm) -> Collaborator | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Collaborator.objects.filter(firm=firm, user=user).select_related("user").first()


def require_firm(user, action: FirmAction, firm) -> Collaborator:
    """The person's ``Collaborator`` row in the firm, when it allows ``action``; else 404 or 403."""
    collaborator = firm_collaborator(user, firm)
    if collaborator is None:
        raise Http404("no such accounting firm")
    role = FIRM_ADMIN if collaborator.is_admin else FIRM_COLLABORATOR
    if role not in FIRM_MATRIX[action]:
        raise PermissionDenied(f"{role} may not {action}")
    return collaborator


def firm_matrix_table() -> str:
    """The firms' matrix as a Markdown table (docs/permissions.md carries it)."""
    header = "| action | " + " | ".join(FIRM_STANDINGS) + " |"
    rule = "|---|" + "---|" * len(FIRM_STANDINGS)
    rows = [
        f"| {action.value} | "
        + " | ".join("yes" if role in FIRM_MATRIX[action] else "no" for role in FIRM_STANDINGS)
        + " |"
        for action in FirmAction
    ]
    return "\n".join([header, rule, *rows])
