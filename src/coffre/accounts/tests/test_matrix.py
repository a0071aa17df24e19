"""Every view of the portal tried by every standing: the permission matrix, whole.

``ROUTES`` names every URL pattern of the portal (namespaces ``accounts``, ``mailbox``, ``intake``
and ``agents``, and the home page): a view added without an entry here fails
``test_every_portal_view_is_in_the_matrix``.
Each entry says how to fill the URL with objects of enterprise A, and what each standing gets for
a GET (and a POST where the view takes one):

- pages of an enterprise follow ``permissions.MATRIX`` (``matrix(action)``): the page (or the
  action done: a redirect) when the standing allows the action, 403 when the person has another
  standing in A, 404 without standing (A's existence is not disclosed), the sign-in page for a
  visitor;
- pages of an accounting firm follow ``permissions.FIRM_MATRIX`` (``firm(action)``);
- the pages of E-mail access follow ``permissions.MATRIX`` and then admit the approvers of senders
  only (``approvers``);
- the person's own pages (``personal``, ``own_box``) and the visitor and e-mailed-link pages
  (``public``) say per standing what they answer.

The standings: principal (paula), co_principal (cora), manager (alice), co_manager (colin),
member (bob), accountant (anne), firm_admin (fanny, admin of Fidu Lebrun, which has A in its
portfolio), firm_collaborator (felix, of the same firm), charlie (member of ANOTHER enterprise, B)
and anonymous. Access managers sign in with a verified second factor, as they must.

Each attempt runs in a savepoint rolled back afterwards, so that every standing meets the same A.
An action that is allowed (``DONE``) must be done: a redirect (not to the sign-in or two-factor
page) and a new record in the audit trail, which every change writes in its transaction. A refused
attempt changes nothing (``state``: messages, people, invitations, firms, favourites, links,
e-Box). ``test_b_objects_in_a_urls_are_never_reached`` puts the ids of B's objects in A's URLs:
never reached, never changed, never shown.
"""

import re
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from coffre.accounts.models import (
    AccountLink,
    Assignment,
    ClientFile,
    Collaborator,
    Favourite,
    Invitation,
    Membership,
)
from coffre.accounts.permissions import Action, FirmAction
from coffre.accounts.tests.outcomes import (
    DONE,
    HOME,
    LOGIN,
    LOGIN_PAGE,
    POST_ONLY,
    SETUP,
    Redirect,
    Route,
    Try,
    approvers,
    attempt,
    firm,
    managers,
    matrix,
    mismatch,
    only,
    own_box,
    personal,
    public,
    run_in_savepoint,
    url_of,
)
from coffre.accounts.tests.portal_people import assert_no_inline_code
from coffre.accounts.tests.standings import (  # noqa: F401
    B_SUBJECT,
    STANDINGS,
    Objects,
    client_of,
    portal_fixture,
    world_fixture,
)
from coffre.agents.models import Connection, SupportReport
from coffre.audit.models import AuditRecord
from coffre.intake.models import PendingMail, SenderApproval
from coffre.mailbox.models import Ebox, Message

CBE = {"cbe": "{cbe}"}
LINK = "the e-mailed link (its token)"
# The approvers of senders of A (seed 002): paula, its client admin (unknown and unauthenticated
# addresses), and felix, attached to A (firm collaborators' addresses).
APPROVERS = {"principal", "firm_collaborator"}
CLIENT_ADMIN = {"principal"}
OWN_DOCUMENT = {"message_id": "{own_message}", "attachment_id": "{own_attachment}"}
AGENT = {"cbe": "{cbe}", "connection_id": "{connection}"}
OWN_AGENT = {"connection_id": "{own_connection}"}
DOCCONSUMER = {"cbe": "{cbe}", "connection_id": "{docconsumer}"}
AGENT_CREDENTIALS = {"credentials-login": "demo-ok", "credentials-password": "demo"}
ROUTES: dict[str, Route] = {
    # --- the home page: the first e-Box of the person --------------------------------------------
    "home": Route(
        {}, Try(public(LOGIN_PAGE, signed_in=Redirect("/e/"), text="anyone (signed in: to their e-Box)"))
    ),
    # --- signing up and in (visitors) --------------------------------------------------------------
    "accounts:login": Route(
        {},
        Try(public(200, signed_in=HOME)),
        Try(public(200, signed_in=HOME), {"username": "nobody@example.be", "password": "wrong password"}),
    ),
    "accounts:login_code": Route({}, Try(public(LOGIN_PAGE)), Try(public(LOGIN_PAGE), {"code": "123456"})),
    "accounts:logout": Route({}, Try(public(405)), Try(public(LOGIN_PAGE))),
    "accounts:signup": Route(
        {},
        Try(public(200, signed_in=HOME)),
        Try(
            public(Redirect("/accounts/signup/done/"), signed_in=HOME),
            {
                "email": "newcomer@example.be",
                "full_name": "New",
                "language": "en",
                "password1": "a long enough passphrase",
                "password2": "a long enough passphrase",
            },
        ),
    ),
    "accounts:signup_done": Route({}, Try(public(200))),
    "accounts:resend_verification": Route(
        {}, Try(public(200)), Try(public(LOGIN_PAGE), {"email": "newcomer@example.be"})
    ),
    "accounts:verify_email": Route(
        {"token": "any-token"}, Try(public(Redirect("/accounts/verify/confirm/"), text=LINK))
    ),
    "accounts:verify_email_confirm": Route(
        {}, Try(public(400, text=LINK)), Try(public(400, text=LINK), {"password": "x"})
    ),
    "accounts:password_reset": Route(
        {},
        Try(public(200)),
        Try(public(Redirect("/accounts/password/reset/done/")), {"email": "x@example.be"}),
    ),
    "accounts:password_reset_done": Route({}, Try(public(200))),
    "accounts:password_reset_complete": Route({}, Try(public(200))),
    "accounts:password_reset_confirm": Route(
        {"uidb64": "MQ", "token": "set-password"},
        Try(public(200, text=LINK)),
        Try(
            public(200, text=LINK),
            {"new_password1": "a long enough passphrase", "new_password2": "a long enough passphrase"},
        ),
    ),
    # --- the person's own pages ----------------------------------------------------------------------
    "accounts:settings": Route(
        {}, Try(personal(200)), Try(personal(DONE), {"full_name": "Me", "language": "en"})
    ),
    "accounts:password_change": Route(
        {},
        Try(personal(200)),
        Try(
            personal(200),  # a wrong current password: the form again, nothing changed
            {
                "old_password": "wrong",
                "new_password1": "another passphrase 1",
                "new_password2": "another passphrase 1",
            },
        ),
    ),
    "accounts:two_factor_setup": Route({}, Try(personal(200)), Try(personal(200), {"code": "000000"})),
    "accounts:two_factor_verify": Route(
        {}, Try(managers(Redirect("/"), SETUP)), Try(managers(Redirect("/"), SETUP), {"code": "000000"})
    ),
    "accounts:two_factor_recovery_codes": Route(
        {}, Try(managers(200, SETUP)), Try(managers(200, SETUP), {"code": "000000"})
    ),
    "accounts:two_factor_disable": Route(
        {},
        Try(managers(200, Redirect("/accounts/settings/"))),
        Try(managers(200, Redirect("/accounts/settings/")), {"password": "x", "code": "000000"}),
    ),
    "accounts:register_enterprise": Route(
        {},
        Try(personal(200)),
        Try(personal(Redirect("/e/0400000185/")), {"cbe": "0400000185", "name": "New SRL", "language": "fr"}),
    ),
    "accounts:linked_accounts": Route(
        {},
        Try(personal(200)),
        Try(personal(DONE), {"client_number": "300400", "postal_code": "4000", "contract_number": ""}),
    ),
    "accounts:unlink_own": Route(
        {"link_id": "{link}"},
        Try(POST_ONLY),
        Try(only("member", DONE)),
        foreign=("link",),
        foreign_rule=only("charlie", DONE),  # B's link is charlie's own: his, and nobody else's
    ),
    "accounts:report_link": Route(
        {"link_id": "{link}"},
        Try(POST_ONLY),
        Try(only("member", DONE)),
        foreign=("link",),
        foreign_rule=only("charlie", DONE),  # B's link is charlie's own: his, and nobody else's
    ),
    # --- invitations and e-mailed links (the token is the authority) -----------------------------
    "accounts:invitation": Route(
        {"token": "{invitation_token}"}, Try(public(Redirect("/accounts/invitations/accept/"), text=LINK))
    ),
    "accounts:invitation_accept": Route({}, Try(public(404, text=LINK)), Try(public(404, text=LINK))),
    "accounts:link_removal": Route(
        {"token": "{removal_token}"}, Try(public(200, text=LINK)), Try(public(200, text=LINK))
    ),
    "accounts:link_removal_report": Route(
        {"token": "{removal_token}"}, Try(public(405)), Try(public(200, text=LINK))
    ),
    "mailbox:confirm_address": Route(
        {"cbe": "{cbe}", "token": "{confirm_token}"},
        Try(public(200, text=LINK)),
        Try(public(200, text=LINK)),
        foreign=("confirm_token",),
        foreign_outcome=400,
    ),
    # --- an enterprise's people, roles, invitations, security log ------------------------------
    "accounts:people": Route(CBE, Try(matrix(Action.MANAGE_MEMBERS))),
    "accounts:invite": Route(
        CBE,
        Try(POST_ONLY),
        Try(matrix(Action.MANAGE_MEMBERS, DONE), {"email": "new@example.be", "role": "member"}),
    ),
    "accounts:change_role": Route(
        {"cbe": "{cbe}", "membership_id": "{member}"},
        Try(POST_ONLY),
        Try(matrix(Action.MANAGE_MEMBERS, DONE), {"m{member}-role": "accountant"}),
        foreign=("member",),
    ),
    "accounts:remove_person": Route(
        {"cbe": "{cbe}", "membership_id": "{member}"},
        Try(matrix(Action.MANAGE_MEMBERS)),
        Try(matrix(Action.MANAGE_MEMBERS, DONE)),
        foreign=("member",),
    ),
    "accounts:revoke_invitation": Route(
        {"cbe": "{cbe}", "invitation_id": "{invitation}"},
        Try(POST_ONLY),
        Try(matrix(Action.MANAGE_MEMBERS, DONE)),
        foreign=("invitation",),
    ),
    "accounts:hand_over": Route(
        CBE,
        Try(matrix(Action.TRANSFER_PRINCIPAL)),
        Try(matrix(Action.TRANSFER_PRINCIPAL, DONE), {"successor": "{successor}"}),
        foreign=("successor",),
        foreign_outcome=400,
    ),
    "accounts:leave": Route(CBE, Try(matrix(Action.LEAVE)), Try(matrix(Action.LEAVE, DONE))),
    "accounts:security_log": Route(CBE, Try(matrix(Action.VIEW_SECURITY_LOG))),
    # --- an enterprise and the accounting firms ----------------------------------------------------
    "accounts:enterprise_firms": Route(
        CBE, Try(matrix(Action.GRANT_FIRM)), Try(matrix(Action.GRANT_FIRM, DONE), {"firm": "olga@example.be"})
    ),
    "accounts:enterprise_firm_revoke": Route(
        {"cbe": "{cbe}", "file_id": "{client_file}"},
        Try(POST_ONLY),
        Try(matrix(Action.GRANT_FIRM, DONE)),
        foreign=("client_file",),
    ),
    "accounts:client_admin": Route(
        CBE,
        Try(matrix(Action.MANAGE_MEMBERS)),
        Try(matrix(Action.MANAGE_MEMBERS, DONE), {"client_admin": "{client_admin}"}),
        foreign=("client_admin",),
        foreign_outcome=400,
    ),
    # --- the firms' own pages ------------------------------------------------------------------------
    "accounts:portfolio": Route({}, Try(firm(FirmAction.VIEW_PORTFOLIO))),
    "accounts:client_file": Route(
        {"file_id": "{client_file}"}, Try(firm(FirmAction.VIEW_PORTFOLIO)), foreign=("client_file",)
    ),
    "accounts:favourite": Route(
        {"file_id": "{client_file}"},
        Try(POST_ONLY),
        Try(firm(FirmAction.FAVOURITE, DONE)),
        foreign=("client_file",),
    ),
    "accounts:attach": Route(
        {"file_id": "{client_file}"},
        Try(POST_ONLY),
        Try(firm(FirmAction.ATTACH, DONE), {"collaborator": "{unattached}"}),
        foreign=("client_file",),
    ),
    "accounts:detach": Route(
        {"file_id": "{client_file}"},
        Try(POST_ONLY),
        Try(firm(FirmAction.ATTACH, DONE), {"collaborator": "{collaborator}"}),
        foreign=("client_file",),
    ),
    "accounts:firm": Route(
        {"firm_id": "{firm}"},
        Try(firm(FirmAction.VIEW_PORTFOLIO)),
        Try(firm(FirmAction.MANAGE_COLLABORATORS, DONE), {"email": "dave@example.be"}),
        foreign=("firm",),
    ),
    "accounts:remove_collaborator": Route(
        {"firm_id": "{firm}", "collaborator_id": "{collaborator}"},
        Try(POST_ONLY),
        Try(firm(FirmAction.MANAGE_COLLABORATORS, DONE)),
        foreign=("collaborator",),
    ),
    # --- the mailbox -----------------------------------------------------------------------------------
    "mailbox:list": Route(CBE, Try(matrix(Action.VIEW_MESSAGES))),
    "mailbox:visibility": Route(
        CBE,
        Try(POST_ONLY),
        Try(matrix(Action.HIDE_MESSAGES, DONE), {"message": "{message}", "action": "hide"}),
        foreign=("message",),
    ),
    "mailbox:message": Route(
        {"cbe": "{cbe}", "message_id": "{message}"}, Try(matrix(Action.VIEW_MESSAGES)), foreign=("message",)
    ),
    "mailbox:preview": Route(
        {"cbe": "{cbe}", "message_id": "{message}", "attachment_id": "{attachment}"},
        Try(matrix(Action.DOWNLOAD)),
        foreign=("message", "attachment"),
    ),
    "mailbox:download": Route(
        {"cbe": "{cbe}", "message_id": "{message}", "attachment_id": "{attachment}"},
        Try(matrix(Action.DOWNLOAD)),
        foreign=("message", "attachment"),
    ),
    # --- e-Box management -------------------------------------------------------------------------------
    "mailbox:management": Route(CBE, Try(matrix(Action.MANAGE_EBOX))),
    "mailbox:change_address": Route(
        CBE, Try(POST_ONLY), Try(matrix(Action.MANAGE_EBOX, DONE), {"email": "new-group@a.example"})
    ),
    "mailbox:resend_confirmation": Route(CBE, Try(POST_ONLY), Try(matrix(Action.MANAGE_EBOX, DONE))),
    "mailbox:cancel_change": Route(CBE, Try(POST_ONLY), Try(matrix(Action.MANAGE_EBOX, DONE))),
    "mailbox:change_phrase": Route(
        CBE, Try(POST_ONLY), Try(matrix(Action.MANAGE_EBOX, DONE), {"phrase": "Blue bakery"})
    ),
    "intake:regenerate_address": Route(
        {"cbe": "{cbe}", "folder": "purchases"},
        Try(POST_ONLY),
        Try(matrix(Action.REGENERATE_INTAKE_ADDRESSES, DONE)),
    ),
    # --- E-mail access (seed 002): the approvers of senders ----------------------------------------
    "intake:email_access": Route(
        CBE, Try(approvers(Action.ACCEPT_SENDERS, APPROVERS, "the client admin, the collaborators attached"))
    ),
    "intake:email_activity": Route(
        CBE, Try(approvers(Action.ACCEPT_SENDERS, APPROVERS, "the client admin, the collaborators attached"))
    ),
    "intake:sender_decision": Route(
        {"cbe": "{cbe}", "approval_id": "{approval}"},
        Try(POST_ONLY),
        Try(
            approvers(Action.REFUSE_SENDERS, CLIENT_ADMIN, "the approvers the address's request names", DONE),
            {"decision": "refuse"},
        ),
        foreign=("approval",),
    ),
    "intake:mail_decision": Route(
        {"cbe": "{cbe}", "pending_id": "{waiting}"},
        Try(POST_ONLY),
        Try(
            approvers(Action.ACCEPT_SENDERS, CLIENT_ADMIN, "the approvers the mail's request names", DONE),
            {"decision": "accept"},
        ),
        foreign=("waiting",),
    ),
    # --- My documents: the person's own box ------------------------------------------------------------
    "intake:my_documents": Route({}, Try(personal(200))),
    "intake:my_document": Route(
        {"message_id": "{own_message}"},
        Try(own_box("member", 200)),
        foreign=("own_message",),
        foreign_rule=own_box("charlie", 200),  # B's person's own document: his, and nobody else's
    ),
    "intake:my_preview": Route(
        OWN_DOCUMENT,
        Try(own_box("member", 200)),
        foreign=("own_message", "own_attachment"),
        foreign_rule=own_box("charlie", 200),
    ),
    "intake:my_download": Route(
        OWN_DOCUMENT,
        Try(own_box("member", 200)),
        foreign=("own_message", "own_attachment"),
        foreign_rule=own_box("charlie", 200),
    ),
    "intake:my_waiting_decision": Route(
        {"pending_id": "{own_pending}"},
        Try(POST_ONLY),
        Try(own_box("member", DONE), {"decision": "accept"}),
        foreign=("own_pending",),
        foreign_rule=own_box("charlie", DONE),
    ),
    "intake:my_address_regenerate": Route({}, Try(POST_ONLY), Try(personal(DONE))),
    # --- agents (issue 7): an enterprise's, and the person's own in My documents ---------------------
    "agents:e_agents": Route(CBE, Try(matrix(Action.VIEW_AGENTS))),
    "agents:e_catalog": Route(CBE, Try(matrix(Action.VIEW_AGENTS))),
    "agents:e_suggest": Route(
        CBE, Try(POST_ONLY), Try(matrix(Action.VIEW_AGENTS, DONE), {"provider_name": "Proximus"})
    ),
    "agents:e_add": Route(
        {"cbe": "{cbe}", "agent_id": "demo-energy"},
        Try(matrix(Action.MANAGE_AGENTS)),
        Try(matrix(Action.MANAGE_AGENTS, DONE), {"folder": "purchases", **AGENT_CREDENTIALS}),
    ),
    "agents:e_connection": Route(AGENT, Try(matrix(Action.VIEW_AGENTS)), foreign=("connection",)),
    "agents:e_credentials": Route(
        AGENT,
        Try(matrix(Action.MANAGE_AGENTS)),
        Try(matrix(Action.MANAGE_AGENTS, DONE), AGENT_CREDENTIALS),
        foreign=("connection",),
    ),
    "agents:e_done": Route(
        {"cbe": "{cbe}", "connection_id": "{waiting_connection}"},
        Try(POST_ONLY),
        Try(matrix(Action.MANAGE_AGENTS, DONE)),
        foreign=("waiting_connection",),
    ),
    "agents:e_sync": Route(
        AGENT, Try(POST_ONLY), Try(matrix(Action.SYNC_AGENTS, DONE)), foreign=("connection",)
    ),
    "agents:e_report": Route(
        AGENT, Try(POST_ONLY), Try(matrix(Action.SYNC_AGENTS, DONE)), foreign=("connection",)
    ),
    "agents:e_remove": Route(
        AGENT,
        Try(matrix(Action.MANAGE_AGENTS)),
        Try(matrix(Action.MANAGE_AGENTS, DONE)),
        foreign=("connection",),
    ),
    "agents:e_docconsumer": Route(
        CBE,
        Try(matrix(Action.MANAGE_AGENTS)),
        Try(matrix(Action.MANAGE_AGENTS, DONE), {"folder": "documents"}),
    ),
    "agents:e_docconsumer_setup": Route(
        DOCCONSUMER,
        Try(matrix(Action.MANAGE_AGENTS)),
        Try(matrix(Action.MANAGE_AGENTS, DONE), {"client_id": "client-of-a", "enterprise": "{cbe}"}),
        foreign=("docconsumer",),
    ),
    "agents:e_certificate": Route(DOCCONSUMER, Try(matrix(Action.MANAGE_AGENTS)), foreign=("docconsumer",)),
    "agents:my_agents": Route({}, Try(personal(200))),
    "agents:my_catalog": Route({}, Try(personal(200))),
    "agents:my_suggest": Route({}, Try(POST_ONLY), Try(personal(DONE), {"provider_name": "Proximus"})),
    "agents:my_add": Route(
        {"agent_id": "demo-energy"}, Try(personal(200)), Try(personal(DONE), AGENT_CREDENTIALS)
    ),
    "agents:my_connection": Route(
        OWN_AGENT,
        Try(own_box("member", 200)),
        foreign=("own_connection",),
        foreign_rule=own_box("charlie", 200),  # B's person's own agent: his, and nobody else's
    ),
    "agents:my_credentials": Route(
        OWN_AGENT,
        Try(own_box("member", 200)),
        Try(own_box("member", DONE), AGENT_CREDENTIALS),
        foreign=("own_connection",),
        foreign_rule=own_box("charlie", 200),
        foreign_post_rule=own_box("charlie", DONE),
    ),
    "agents:my_done": Route(
        {"connection_id": "{own_waiting_connection}"},
        Try(POST_ONLY),
        Try(own_box("member", DONE)),
        foreign=("own_waiting_connection",),
        foreign_rule=own_box("charlie", DONE),
    ),
    "agents:my_sync": Route(
        OWN_AGENT,
        Try(POST_ONLY),
        Try(own_box("member", DONE)),
        foreign=("own_connection",),
        foreign_rule=own_box("charlie", DONE),
    ),
    "agents:my_report": Route(
        OWN_AGENT,
        Try(POST_ONLY),
        Try(own_box("member", DONE)),
        foreign=("own_connection",),
        foreign_rule=own_box("charlie", DONE),
    ),
    "agents:my_docconsumer": Route({}, Try(personal(200)), Try(personal(DONE))),
    "agents:my_docconsumer_setup": Route(
        {"connection_id": "{own_docconsumer}"},
        Try(own_box("member", 200)),
        Try(own_box("member", DONE), {"client_id": "client-of-mine", "enterprise": "{cbe}"}),
        foreign=("own_docconsumer",),
        foreign_rule=own_box("charlie", 200),
        foreign_post_rule=own_box("charlie", DONE),
    ),
    "agents:my_certificate": Route(
        {"connection_id": "{own_docconsumer}"},
        Try(own_box("member", 200)),
        foreign=("own_docconsumer",),
        foreign_rule=own_box("charlie", 200),
    ),
    "agents:my_remove": Route(
        OWN_AGENT,
        Try(own_box("member", 200)),
        Try(own_box("member", DONE)),
        foreign=("own_connection",),
        foreign_rule=own_box("charlie", 200),
        foreign_post_rule=own_box("charlie", DONE),
    ),
}


PORTAL_NAMESPACES = ("accounts", "mailbox", "intake", "agents")


def tries() -> list:
    cases = []
    for name, route in ROUTES.items():
        cases.append(pytest.param(name, "get", id=f"GET {name}"))
        if route.post is not None:
            cases.append(pytest.param(name, "post", id=f"POST {name}"))
    return cases


# --- the tests ----------------------------------------------------------------------------------------


def portal_url_names() -> set[str]:
    """Every named URL pattern of the portal: namespaces accounts, mailbox, intake and agents, and the
    home page."""
    names = set()

    def walk(patterns, namespace: str | None):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern):
                if namespace in PORTAL_NAMESPACES:
                    names.add(f"{namespace}:{pattern.name}")
                elif namespace is None and pattern.name == "home":
                    names.add("home")

    walk(get_resolver().url_patterns, None)
    return names


def test_every_portal_view_is_in_the_matrix():
    names = portal_url_names()
    assert len(names) > 50  # the walk found the portal
    assert names - set(ROUTES) == set(), "views without an entry in ROUTES (who may open them?)"
    assert set(ROUTES) - names == set(), "entries of ROUTES without a view"


def state(objects: Objects, side: str) -> tuple:
    """What the objects of one enterprise (``side``: "a" or "b") are; a refusal changes none of it."""
    ids = getattr(objects, side)
    cbe = ids["cbe"]
    message = Message.objects.get(message_id=ids["message"], ebox__enterprise__cbe=cbe)
    ebox = Ebox.objects.select_related("enterprise").get(enterprise__cbe=cbe)
    return (
        message.visible,
        message.read_at,
        ebox.enterprise.client_admin_id,
        (ebox.notification_email, ebox.pending_email, ebox.pending_token_sha256, ebox.anti_phishing_phrase),
        list(Membership.objects.filter(enterprise__cbe=cbe).values_list("user_id", "role").order_by("pk")),
        list(Invitation.objects.filter(enterprise__cbe=cbe).values_list("pk", "revoked_at").order_by("pk")),
        list(ClientFile.objects.filter(enterprise__cbe=cbe).values_list("pk", "firm_id").order_by("pk")),
        list(Collaborator.objects.filter(firm_id=ids["firm"]).values_list("pk", "user_id").order_by("pk")),
        list(Favourite.objects.filter(client_file_id=ids["client_file"]).values_list("pk", flat=True)),
        list(Assignment.objects.filter(client_file_id=ids["client_file"]).values_list("pk", flat=True)),
        list(AccountLink.objects.filter(pk=ids["link"]).values_list("removed_at", flat=True)),
        list(SenderApproval.objects.filter(enterprise__cbe=cbe).values_list("pk", "status").order_by("pk")),
        list(PendingMail.objects.filter(ebox=ebox).values_list("pk", flat=True).order_by("pk")),
        PendingMail.objects.filter(pk=ids["own_pending"]).exists(),
        list(
            Connection.objects.filter(
                pk__in=[
                    ids[key]
                    for key in (
                        *("connection", "waiting_connection", "docconsumer"),
                        *("own_connection", "own_waiting_connection", "own_docconsumer"),
                    )
                ]
            )
            .values_list("pk", "status", "label", "credentials_sealed", "last_sync_now_at", "next_run_at")
            .order_by("pk")
        ),
        Connection.objects.filter(box__enterprise__cbe=cbe).count(),
        SupportReport.objects.filter(connection__box__enterprise__cbe=cbe).count(),
    )


REFUSED = {LOGIN, 403, 404, 405}


def refused(response) -> bool:
    location = response.get("Location", "")
    return response.status_code >= 400 or location.startswith(reverse("accounts:login"))


def try_once(objects: Objects, standing: str, method: str, url: str, data: dict, values: dict, side: str):
    """One attempt in a savepoint: the answer, and whether a refusal left the objects of ``side`` as they
    were (checked before the savepoint undoes everything)."""

    def once():
        before, records = state(objects, side), AuditRecord.objects.count()
        response = attempt(client_of(standing, objects), method, url, data, values)
        unchanged = not refused(response) or state(objects, side) == before
        response.audited = AuditRecord.objects.count() > records
        return response, unchanged

    return run_in_savepoint(once)


@pytest.mark.parametrize("name, method", tries())
def test_every_standing_gets_what_the_matrix_says(portal, name, method):
    route = ROUTES[name]
    attempt_of = route.post if method == "post" else route.get
    url = url_of(name, route, portal.a)
    wrong = {}
    for standing in STANDINGS:
        want = attempt_of.rule(standing)
        response, unchanged = try_once(portal, standing, method, url, attempt_of.data, portal.a, "a")
        problem = mismatch(response, want)
        if problem:
            wrong[standing] = f"got {problem}, expected {want}"
        elif not unchanged:
            wrong[standing] = "refused, yet something changed"
        elif want == DONE and not response.audited:
            wrong[standing] = "allowed, but nothing was done (no audit record)"
        elif response.status_code == 200 and response.get("Content-Type", "").startswith("text/html"):
            assert_no_inline_code(response.content.decode())
    assert wrong == {}, f"{method.upper()} {url}"


def _uses(attempt_of: Try, route: Route, keys: tuple[str, ...]) -> bool:
    text = " ".join(
        [
            *map(str, route.kwargs.values()),
            *map(str, attempt_of.data.keys()),
            *map(str, attempt_of.data.values()),
        ]
    )
    return any("{" + key + "}" in text for key in keys)


def foreign_cases() -> list:
    cases = []
    for name, route in ROUTES.items():
        for method, attempt_of in (("get", route.get), ("post", route.post)):
            if (
                attempt_of is not None
                and attempt_of.rule is not POST_ONLY
                and _uses(attempt_of, route, route.foreign)
            ):
                cases.append(pytest.param(name, method, id=f"{method.upper()} {name}"))
    return cases


@pytest.mark.parametrize("name, method", foreign_cases())
def test_b_objects_in_a_urls_are_never_reached(portal, name, method):
    """A's URL with the id (or token) of one of B's objects: whoever may act in A gets 404 (or the
    form again, 400, for a value of a form); the others are refused as with A's own objects (or
    get 404: they have no standing where B's object lives); B's objects never change."""
    route = ROUTES[name]
    attempt_of = route.post if method == "post" else route.get
    mixed = {**portal.a, **{key: portal.b[key] for key in route.foreign}}
    url = url_of(name, route, mixed)
    wrong = {}
    for standing in STANDINGS:
        usual = attempt_of.rule(standing)
        foreign_rule = (
            route.foreign_post_rule if method == "post" and route.foreign_post_rule else route.foreign_rule
        )
        if foreign_rule is not None:
            wants = [foreign_rule(standing)]
        elif usual in REFUSED:
            wants = [usual, 404]
        else:
            wants = [route.foreign_outcome]
        response, unchanged = try_once(portal, standing, method, url, attempt_of.data, mixed, "b")
        problems = [mismatch(response, want) for want in wants]
        if all(problems):
            wrong[standing] = f"got {problems[0]}, expected {' or '.join(map(str, wants))}"
        elif not unchanged:
            wrong[standing] = "refused, yet B's objects changed"
        elif not getattr(response, "streaming", False) and B_SUBJECT.encode() in response.content:
            wrong[standing] = "the answer shows B's message"
    assert wrong == {}, f"{method.upper()} {url}"


# --- docs/permissions.md is the code ------------------------------------------------------------------


def portal_url_patterns() -> dict[str, str]:
    """URL name -> the path pattern people see (``/accounts/e/<cbe>/people/``)."""
    found = {}

    def walk(patterns, namespace: str | None, prefix: str):
        for pattern in patterns:
            text = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, pattern.namespace or namespace, text)
            elif namespace in PORTAL_NAMESPACES or (namespace is None and pattern.name == "home"):
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                found[name] = "/" + re.sub(r"<\w+:(\w+)>", r"<\1>", text)

    walk(get_resolver().url_patterns, None, "")
    return found


def pages_table() -> str:
    """Every page of the portal and what it checks (the pages table of docs/permissions.md)."""
    patterns = portal_url_patterns()
    rows = [
        f"| `{patterns[name]}` | {route.get.rule.text} | {route.post.rule.text if route.post else '—'} |"
        for name, route in sorted(ROUTES.items(), key=lambda item: patterns[item[0]])
    ]
    return "\n".join(["| page | GET | POST |", "|---|---|---|", *rows])


def test_docs_permissions_md_carries_the_matrices_and_every_page():
    import coffre
    from coffre.accounts.permissions import firm_matrix_table, matrix_table

    doc = (Path(coffre.__file__).resolve().parents[2] / "docs" / "permissions.md").read_text(encoding="utf-8")
    for table in (matrix_table(), firm_matrix_table(), pages_table()):
        assert table in doc, f"docs/permissions.md must carry this table, as it is:\n{table}"
