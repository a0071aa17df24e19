"""The portal's menus: what a person may open, from the permission matrix.

- The **enterprise menu** (on every page of an enterprise): its mailbox, its agents, people and
  roles, e-Box management, accounting firms, client admin, e-mail access and security log, each shown only
  when the person's standing there allows the page's action (``permissions.MATRIX``), and e-mail
  access only to the approvers of senders (``permissions.sender_approver_of``), so that a menu
  never leads to a 403 page.
- The **person's menu** (on every page once signed in): My documents, settings, linked business
  accounts, the portfolio (collaborators of an accounting firm only), registering an enterprise,
  logging out.

The current page is marked with ``aria-current="page"``; a page under a menu entry (a message
under the mailbox, the invitation form under people and roles) marks its entry ``"true"``.
Templates render these through ``{% load portal %}`` (``coffre.accounts.templatetags.portal``).
"""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from coffre.accounts.models import Collaborator
from coffre.accounts.permissions import Action, allowed, sender_approver_of


@dataclass(frozen=True)
class Entry:
    label: str
    view: str  # the URL name of the entry's page
    action: Action | None  # what the person's standing must allow (enterprise menu)
    under: frozenset[str] = frozenset()  # URL names of the pages that belong to this entry
    approvers_only: bool = False  # shown to the approvers of senders only (seed 002)


@dataclass(frozen=True)
class Item:
    label: str
    url: str
    current: str | None  # "page", "true" or None (the value of aria-current)


AGENT_PAGES = (
    *("catalog", "suggest", "add", "connection", "credentials", "done", "sync", "report", "remove"),
    *("docconsumer", "docconsumer_setup", "certificate"),
)

ENTERPRISE_MENU = [
    Entry(_("Messages"), "mailbox:list", Action.VIEW_MESSAGES, frozenset({"mailbox:message"})),
    Entry(
        _("Agents"),
        "agents:e_agents",
        Action.VIEW_AGENTS,
        frozenset(f"agents:e_{name}" for name in AGENT_PAGES),
    ),
    Entry(
        _("People and roles"),
        "accounts:people",
        Action.MANAGE_MEMBERS,
        frozenset(
            {"accounts:invite", "accounts:remove_person", "accounts:change_role", "accounts:hand_over"}
        ),
    ),
    Entry(
        _("e-Box management"),
        "mailbox:management",
        Action.MANAGE_EBOX,
        frozenset(
            {
                "mailbox:change_address",
                "mailbox:resend_confirmation",
                "mailbox:cancel_change",
                "mailbox:change_phrase",
            }
        ),
    ),
    Entry(_("Accounting firms"), "accounts:enterprise_firms", Action.GRANT_FIRM),
    Entry(_("Client admin"), "accounts:client_admin", Action.MANAGE_MEMBERS),
    Entry(
        _("E-mail access"),
        "intake:email_access",
        Action.ACCEPT_SENDERS,
        frozenset({"intake:email_activity"}),
        approvers_only=True,
    ),
    Entry(_("Security log"), "accounts:security_log", Action.VIEW_SECURITY_LOG),
]

PERSON_MENU = [
    Entry(
        _("My documents"),
        "intake:my_documents",
        None,
        frozenset({"intake:my_document", "agents:my_agents", *(f"agents:my_{name}" for name in AGENT_PAGES)}),
    ),
    Entry(_("Settings"), "accounts:settings", None, frozenset({"accounts:password_change"})),
    Entry(_("Linked business accounts"), "accounts:linked_accounts", None),
    Entry(_("Portfolio"), "accounts:portfolio", None, frozenset({"accounts:client_file", "accounts:firm"})),
    Entry(_("Register an enterprise"), "accounts:register_enterprise", None),
]
FIRMS_ONLY = "accounts:portfolio"


def _current(entry: Entry, view_name: str) -> str | None:
    if view_name == entry.view:
        return "page"
    if view_name in entry.under:
        return "true"
    return None


def enterprise_menu(enterprise, standing: str | None, view_name: str, user=None) -> list[Item]:
    """The enterprise's pages the person may open (none without standing)."""
    entries = [entry for entry in ENTERPRISE_MENU if allowed(standing, entry.action)]
    if any(entry.approvers_only for entry in entries) and not sender_approver_of(user, enterprise):
        entries = [entry for entry in entries if not entry.approvers_only]
    return [
        Item(str(entry.label), reverse(entry.view, args=[enterprise.cbe]), _current(entry, view_name))
        for entry in entries
    ]


def person_menu(user, view_name: str) -> list[Item]:
    """The signed-in person's own pages (the portfolio only for a firm's collaborators)."""
    works_for_a_firm = Collaborator.objects.filter(user=user).exists()
    return [
        Item(str(entry.label), reverse(entry.view), _current(entry, view_name))
        for entry in PERSON_MENU
        if entry.view != FIRMS_ONLY or works_for_a_firm
    ]
