"""The standings of the portal's access tests, and the world they meet (a fixture).

Enterprise A (portal_people's world, plus colin, co-access manager, anne, accountant, and tom, a
member the managers act on) with a published message, a pending invitation, bob's link to a
business account, a pending change of the notification address, and Fidu Lebrun's client file
with felix attached; documents by e-mail: an unknown sender's mail waiting for A's client admin
(paula), a mail without a usable sender waiting too, and bob's "My documents" with a document and
a mail of his own waiting for his approval. Enterprise B beside it with the same kinds of objects
(charlie's "My documents"); agents (``agent_objects``): A's and B's in error and waiting for an
action, bob's and charlie's in their "My documents". ``Objects.a`` and ``Objects.b`` hold their
ids and the tokens of their e-mailed links.

Import the fixtures where you use them (``from coffre.accounts.tests.standings import
portal_fixture, world_fixture  # noqa: F401``): their names are ``portal`` and ``world``.
"""

import functools
from dataclasses import dataclass, field

import pytest
from django.test import Client

from coffre.accounts import services_firms, services_linking, services_roles
from coffre.accounts.models import BusinessAccount, Membership, Role
from coffre.accounts.permissions import COLLABORATOR, FIRM_ADMIN, FIRM_COLLABORATOR
from coffre.accounts.services import register_enterprise
from coffre.accounts.testing import link_in
from coffre.accounts.tests.portal_people import ACTOR, person, role, world_fixture  # noqa: F401
from coffre.agents import credentials
from coffre.agents import services as agent_services
from coffre.agents.models import Connection, Status
from coffre.agents.providers.docconsumer_setup import new_key_and_certificate
from coffre.agents.providers.pem import one_line
from coffre.audit.services import Actor
from coffre.demo.pdf import simple_pdf
from coffre.intake import services as intake_services
from coffre.intake.models import PendingMail, SenderApproval
from coffre.intake.tests.intake_mails import invoice, receive, space_address
from coffre.mailbox import reference
from coffre.mailbox import services_management as management
from coffre.mailbox.models import Ebox, Message
from coffre.mailbox.services_spaces import personal_box
from coffre.mailbox.tests.conftest import ONSS, publish
from coffre.mailbox.tests.conftest import sign_in as signed_in_client

BASE_URL = "http://testserver"
B_SUBJECT = "Only for Beta's eyes"

STANDINGS = [
    "principal",
    "co_principal",
    "manager",
    "co_manager",
    "member",
    "accountant",
    "firm_admin",
    "firm_collaborator",
    "charlie",
    "anonymous",
]
PEOPLE = {
    "principal": "paula",
    "co_principal": "cora",
    "manager": "alice",
    "co_manager": "colin",
    "member": "bob",
    "accountant": "anne",
    "firm_admin": "fanny",
    "firm_collaborator": "felix",
    "charlie": "charlie",
}
# The standing of each in enterprise A (permissions.standing) and in the firm Fidu Lebrun.
IN_A = {
    "principal": Role.PRINCIPAL,
    "co_principal": Role.CO_PRINCIPAL,
    "manager": Role.MANAGER,
    "co_manager": Role.CO_MANAGER,
    "member": Role.MEMBER,
    "accountant": Role.ACCOUNTANT,
    "firm_admin": COLLABORATOR,
    "firm_collaborator": COLLABORATOR,
    "charlie": None,
}
IN_FIDU = {"firm_admin": FIRM_ADMIN, "firm_collaborator": FIRM_COLLABORATOR}
MANAGERS = {"principal", "co_principal", "manager", "co_manager"}  # they have an authenticator


# --- the world: enterprise A with one person of each standing, B beside it ------------------------


@dataclass
class Objects:
    """Ids and tokens of A's objects (``a``) and B's (``b``), for the URLs and the forms."""

    a: dict
    b: dict
    people: dict = field(default_factory=dict)


def _tokens_from(mails, marker: str) -> list[str]:
    return [link_in(mail, marker).rstrip("/").rsplit("/", 1)[-1] for mail in mails]


@functools.cache
def docconsumer_key() -> tuple[str, str]:
    """One key and certificate for the whole run (making an RSA key takes a while)."""
    return new_key_and_certificate("Coffre DocConsumer test")


def agent_objects(enterprise, manager, owner) -> dict:
    """Agents of the demo portal's kind: one of the enterprise's in error (reported, synced now,
    its credentials replaced, removed), one waiting for the person's action ("I have done it"),
    an e-Box DocConsumer being set up (its certificate made, no client id yet), and the same three
    in the owner's "My documents" (never synced: the states are written)."""
    values = {"login": "demo-ok", "password": "demo"}
    made = {}
    for prefix, adder, box, folder in (
        ("", manager, Ebox.objects.get(enterprise=enterprise), "purchases"),
        ("own_", owner, personal_box(owner), "documents"),
    ):
        for middle, status in (("", Status.UNKNOWN_ERROR), ("waiting_", Status.USER_ACTION_NEEDED)):
            connection = agent_services.add_connection(adder, box, folder, "demo-energy", values, actor=ACTOR)
            Connection.objects.filter(pk=connection.pk).update(
                status=status,
                user_action="accept-terms" if status == Status.USER_ACTION_NEEDED else "",
                next_run_at=None if status == Status.USER_ACTION_NEEDED else connection.next_run_at,
            )
            made[f"{prefix}{middle}connection"] = connection.pk
        private_key, certificate = docconsumer_key()
        made[f"{prefix}docconsumer"] = Connection.objects.create(
            box=box,
            folder=folder,
            agent_id="ebox-docconsumer",
            credentials_sealed=credentials.seal({"private_key": one_line(private_key)}),
            shown_credentials={"certificate": certificate},
            status=Status.PENDING,
            next_run_at=None,
            added_by=adder,
        ).pk
    return made


def intake_objects(enterprise, owner, stranger: str) -> dict:
    """Mails by e-mail to the enterprise and to the owner's "My documents" (sender authentication
    off: every sender is unauthenticated, so that each of them waits)."""
    box = Ebox.objects.get(enterprise=enterprise)
    to_enterprise = space_address(box)
    receive(invoice(stranger), to_enterprise)
    receive(invoice(None, subject="No sender"), to_enterprise)
    own_box = personal_box(owner)
    to_own = space_address(own_box)
    receive(invoice(owner.email, subject="Mine, accepted"), to_own, mail_from=owner.email)
    accepted = PendingMail.objects.get(ebox=own_box)
    intake_services.accept_mail(accepted, by=owner, actor=Actor.cli("test"))
    receive(invoice(owner.email, subject="Mine, waiting"), to_own, mail_from=owner.email)
    own_message = Message.objects.get(ebox=own_box)
    return {
        "approval": SenderApproval.objects.get(enterprise=enterprise).pk,
        "waiting": PendingMail.objects.get(ebox=box, approval__isnull=True).pk,
        "own_message": own_message.message_id,
        "own_attachment": own_message.attachments.get().attachment_id,
        "own_pending": PendingMail.objects.get(ebox=own_box).pk,
    }


@pytest.fixture(name="portal")
def portal_fixture(world, settings, django_capture_on_commit_callbacks, mailoutbox) -> Objects:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.LANGUAGE_CODE = "en"
    colin, anne, tom = person("colin@example.be"), person("anne@fidu.example"), person("tom@example.be")
    role(colin, world.a, Role.CO_MANAGER)
    role(anne, world.a, Role.ACCOUNTANT)
    tom_a = role(tom, world.a, Role.MEMBER)  # whose role the managers change, whom they remove

    register_enterprise(ONSS, "ONSS", ACTOR)
    reference.set_sender_organization(ONSS, ACTOR, short_name={"fr": "ONSS", "nl": "RSZ"})
    reference.set_message_type(
        "ATTEST",
        ACTOR,
        name={"fr": "Attestation"},
        validity_number=1,
        validity_unit="year",
        organizations=[ONSS],
    )
    pdf = simple_pdf(["Attestation"])
    message_a = publish(world.a.cbe, files=[("a.pdf", pdf, "application/pdf", True)])
    message_b = publish(
        world.b.cbe, subject={"fr": B_SUBJECT}, files=[("b.pdf", pdf, "application/pdf", True)]
    )

    account_b = services_linking.set_up_account(
        "500600",
        enterprise=world.b,
        postal_code="9000",
        kind=BusinessAccount.Kind.SMALL_BUSINESS,
        actor=ACTOR,
    ).obj
    services_linking.set_contact(account_b, "prim@b.example", kind="primary", name="", actor=ACTOR)
    services_firms.attach(world.fidu_a, world.felix_c, actor=ACTOR)  # whom the firm admin detaches
    confirm = {}
    with django_capture_on_commit_callbacks(execute=True):
        invitation_a = services_roles.invite(
            world.a, world.paula, "pending@example.be", Role.MEMBER, actor=ACTOR, base_url=BASE_URL
        )
        invitation_b = services_roles.invite(
            world.b, world.bert, "pending-b@example.be", Role.MEMBER, actor=ACTOR, base_url=BASE_URL
        )
        link_a = services_linking.link_account(
            world.bob,
            client_number="100200",
            postal_code="1000",
            contract_number="C-1",
            actor=ACTOR,
            base_url=BASE_URL,
        ).link
        link_b = services_linking.link_account(
            world.charlie, client_number="500600", postal_code="9000", actor=ACTOR, base_url=BASE_URL
        ).link
        for key, enterprise in (("a", world.a), ("b", world.b)):
            management.request_address_change(
                Ebox.objects.get(enterprise=enterprise),
                f"group@{key}.example",
                requested_by="operator@example.be",
                actor=ACTOR,
                language="en",
                link_for=lambda token, key=key: confirm.setdefault(key, token),
            )
    invitation_token = _tokens_from([m for m in mailoutbox if "pending@example.be" in m.to], "/invitations/")[
        0
    ]
    removal_token = _tokens_from([m for m in mailoutbox if "prim@a.example" in m.to], "/link-removal/")[0]

    def attachment(message: Message) -> str:
        return message.attachments.get().attachment_id

    settings.COFFRE_SENDER_AUTH = False
    intake_a = intake_objects(world.a, world.bob, "stranger@elsewhere.example")
    intake_b = intake_objects(world.b, world.charlie, "stranger@elsewhere.example")
    agents_a = agent_objects(world.a, world.paula, world.bob)
    agents_b = agent_objects(world.b, world.bert, world.charlie)

    objects = Objects(
        a={
            "cbe": world.a.cbe,
            "member": tom_a.pk,
            "invitation": invitation_a.invitation.pk,
            "message": message_a.message_id,
            "attachment": attachment(message_a),
            "client_file": world.fidu_a.pk,
            "firm": world.fidu.pk,
            "collaborator": world.felix_c.pk,
            "unattached": world.fanny_c.pk,
            "link": link_a.pk,
            "confirm_token": confirm["a"],
            "invitation_token": invitation_token,
            "removal_token": removal_token,
            "successor": Membership.objects.get(user=world.bob, enterprise=world.a).pk,
            "client_admin": world.bob.pk,
            **intake_a,
            **agents_a,
        },
        b={
            "cbe": world.b.cbe,
            "member": Membership.objects.get(user=world.charlie, enterprise=world.b).pk,
            "invitation": invitation_b.invitation.pk,
            "message": message_b.message_id,
            "attachment": attachment(message_b),
            "client_file": world.other_b.pk,
            "firm": world.other_fidu.pk,
            "collaborator": world.olga_c.pk,
            "link": link_b.pk,
            "confirm_token": confirm["b"],
            "successor": Membership.objects.get(user=world.charlie, enterprise=world.b).pk,
            "client_admin": world.charlie.pk,
            **intake_b,
            **agents_b,
        },
    )
    objects.people = {standing: getattr(world, name, None) for standing, name in PEOPLE.items()}
    objects.people.update(co_manager=colin, accountant=anne)
    return objects


def client_of(standing: str, objects: Objects) -> Client:
    if standing == "anonymous":
        return Client()
    return signed_in_client(objects.people[standing])  # with a verified device when a manager
