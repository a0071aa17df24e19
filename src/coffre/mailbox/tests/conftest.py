"""A small portal world for the web mailbox tests.

- Enterprise A ("Alice & Co") with alice (access manager), bob (member), ann (accountant), and the
  accounting firm "Fidu" whose collaborator carl has A in its portfolio;
- enterprise B ("Charlie SRL") with charlie (member);
- ONSS publishes (message types ATTEST, valid a year, and REMINDER, valid 30 days) and SPF
  Finances too (REMINDER).

People sign in through Django's test client; those who hold an access manager role also get a
verified TOTP device in their session, as two-factor sign-in would leave it.
"""

from dataclasses import dataclass, field

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from coffre.accounts.models import (
    AccountingFirm,
    ClientFile,
    Collaborator,
    Enterprise,
    Membership,
    Role,
    User,
)
from coffre.accounts.permissions import needs_two_factor
from coffre.accounts.services import register_enterprise
from coffre.audit.services import Actor
from coffre.core.cbe import make_cbe
from coffre.demo.pdf import simple_pdf
from coffre.mailbox import reference, services, store
from coffre.mailbox.models import Ebox, Message

ONSS = "0406798006"
SPF = make_cbe(3083571)
A = make_cbe(2000001)
B = make_cbe(3000002)
ACTOR = Actor.cli("test")
PASSWORD = "correct horse battery staple"
PDF = simple_pdf(["Attestation", "Alice & Co"])


def publish(
    recipient: str = A,
    *,
    subject: dict | None = None,
    files: list[tuple[str, bytes, str, bool]] | None = None,
    body: dict | None = None,
    body_main: bool = False,
    sender: str = ONSS,
    message_type: str = "ATTEST",
    **extra,
) -> Message:
    """Publish through the service; ``files`` are (file name, content, media type, main content)."""
    if files is None and not body_main:
        files = [("attestation.pdf", PDF, "application/pdf", True)]
    draft = services.MessageDraft(
        recipient_cbe=recipient,
        subject=subject or {"fr": "Attestation trimestrielle", "nl": "Driemaandelijks attest"},
        message_type_id=message_type,
        sender_organization_id=sender,
        body=body,
        body_main_content=body_main,
        attachments=[
            services.AttachmentDraft(
                content=store.write_content([content]),
                file_name=name,
                media_type=media_type,
                main_content=main,
            )
            for name, content, media_type, main in files or []
        ],
        **extra,
    )
    published = services.publish_message(draft, services.Publisher(client_id="test", cbe=sender), ACTOR)
    return Message.objects.get(message_id=published.message_id, ebox__enterprise__cbe=recipient)


def sign_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    if needs_two_factor(user):
        device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


@dataclass
class Portal:
    a: Enterprise
    b: Enterprise
    people: dict[str, User] = field(default_factory=dict)

    @property
    def ebox_a(self) -> Ebox:
        return Ebox.objects.get(enterprise=self.a)

    @property
    def ebox_b(self) -> Ebox:
        return Ebox.objects.get(enterprise=self.b)

    def client(self, name: str) -> Client:
        """A signed-in client for a named person, or an anonymous one for "anonymous" (a browser
        asking for English; the people read English unless made otherwise)."""
        if name == "anonymous":
            return Client(HTTP_ACCEPT_LANGUAGE="en")
        return sign_in(self.people[name])


def person(email: str, language: str = "en") -> User:
    return User.objects.create_user(email, None, language=language)  # signed in with force_login


def setup_reference_data() -> tuple[Enterprise, Enterprise]:
    for cbe, name in ((ONSS, "ONSS"), (SPF, "SPF Finances")):
        register_enterprise(cbe, name, ACTOR)
    a = register_enterprise(A, "Alice & Co", ACTOR).enterprise
    b = register_enterprise(B, "Charlie SRL", ACTOR).enterprise
    reference.set_sender_organization(
        ONSS,
        ACTOR,
        short_name={"fr": "ONSS", "nl": "RSZ", "de": "LSS"},
        long_name={"fr": "Office national de sécurité sociale", "nl": "Rijksdienst voor Sociale Zekerheid"},
    )
    reference.set_sender_organization(SPF, ACTOR, short_name={"fr": "SPF Finances", "nl": "FOD Financiën"})
    reference.set_message_type(
        "ATTEST",
        ACTOR,
        name={"fr": "Attestation", "nl": "Attest", "de": "Bescheinigung", "en": "Certificate"},
        validity_number=1,
        validity_unit="year",
        organizations=[ONSS],
    )
    reference.set_message_type(
        "REMINDER",
        ACTOR,
        name={"fr": "Rappel de paiement", "nl": "Betalingsherinnering"},
        validity_number=30,
        validity_unit="day",
        organizations=[ONSS, SPF],
    )
    return a, b


@pytest.fixture
def portal(db) -> Portal:
    a, b = setup_reference_data()
    world = Portal(a=a, b=b)
    for name, enterprise, role in (
        ("alice", a, Role.MANAGER),
        ("bob", a, Role.MEMBER),
        ("ann", a, Role.ACCOUNTANT),
        ("charlie", b, Role.MEMBER),
    ):
        world.people[name] = person(f"{name}@example.be")
        Membership.objects.create(user=world.people[name], enterprise=enterprise, role=role)
    firm = AccountingFirm.objects.create(name="Fidu")
    world.people["carl"] = person("carl@fidu.example")
    Collaborator.objects.create(firm=firm, user=world.people["carl"])
    ClientFile.objects.create(firm=firm, enterprise=a)
    return world
