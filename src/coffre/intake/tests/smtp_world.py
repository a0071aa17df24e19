"""The world of the intake's SMTP tests: Coffre's SMTP server running (aiosmtpd, in a thread of the
test), spoken to by a real client (smtplib) from 127.0.0.1, with sender authentication against a
real DNS server (``dns_server``) and the people of portal_people's world.

DNS: example.be (the people of A and of Fidu Lebrun, and the suppliers of supplier.be) publishes
SPF for 127.0.0.1, so their mail is authenticated; nothing.example publishes nothing
(unauthenticated); strict.example publishes SPF for another server (its mail fails); slow.example
never answers (temperror).
"""

import smtplib
from dataclasses import dataclass, field

import pytest
from django.test import Client

from coffre.accounts.tests.portal_people import World
from coffre.audit.services import Actor
from coffre.intake import selectors
from coffre.intake import services as intake_services
from coffre.intake.models import IntakeMail, PendingMail, SenderApproval
from coffre.mailbox.models import Ebox, Message
from coffre.mailbox.services_spaces import personal_box
from coffre.mailbox.tests.conftest import sign_in
from coffre.outbox.models import OutgoingMail
from coffre.smtpd.server import start_server
from coffre.testing.live import listening_socket
from coffre.testing.smtp import ServerThread

INTAKE_DOMAIN = "in.coffre.test"
ACTOR = Actor.cli("test")


@dataclass(frozen=True)
class Reply:
    code: int
    text: str
    refused: dict = field(default_factory=dict)  # recipients refused at RCPT TO: code, text


class IntakeWorld:
    def __init__(self, world: World, dns, port: int):
        self.world, self.dns, self.port = world, dns, port

    # --- addresses ---
    def box(self, enterprise=None, person=None) -> Ebox:
        return personal_box(person) if person is not None else Ebox.objects.get(enterprise=enterprise)

    def address(self, enterprise=None, folder="documents", person=None) -> str:
        box = self.box(enterprise, person)
        return selectors.full_address(intake_services.address_for(box, folder, ACTOR))

    # --- SMTP ---
    def send(
        self, raw: bytes, *recipients: str, mail_from: str = "sender@example.be", helo: str = "mx.client.test"
    ) -> Reply:
        """One SMTP conversation: EHLO, MAIL FROM, RCPT TO each, DATA; the replies."""
        with smtplib.SMTP("127.0.0.1", self.port, timeout=30) as client:
            client.ehlo(helo)
            client.mail(mail_from)
            refused, accepted = {}, 0
            for recipient in recipients:
                code, text = client.rcpt(recipient)
                if code >= 400:
                    refused[recipient] = (code, text.decode())
                else:
                    accepted += 1
            if not accepted:
                client.rset()
                return Reply(0, "", refused)
            code, text = client.data(raw)
            return Reply(code, text.decode(), refused)

    # --- what happened ---
    def documents(self, enterprise=None, folder="documents", person=None) -> list[Message]:
        return list(
            Message.objects.filter(ebox=self.box(enterprise, person), folder=folder, origin="email").order_by(
                "receipt_date", "pk"
            )
        )

    def waiting(self, enterprise=None, person=None) -> list[PendingMail]:
        return list(PendingMail.objects.filter(ebox=self.box(enterprise, person)).order_by("pk"))

    def activity(self, enterprise=None, person=None) -> list[IntakeMail]:
        return list(IntakeMail.objects.filter(ebox=self.box(enterprise, person)).order_by("pk"))

    def approval(self, enterprise, address: str) -> SenderApproval | None:
        return SenderApproval.objects.filter(enterprise=enterprise, address=address).first()

    def mails_to(self, address: str, purpose: str | None = None) -> list[OutgoingMail]:
        mails = OutgoingMail.objects.filter(to_address=address).order_by("pk")
        return list(mails.filter(purpose=purpose) if purpose else mails)

    def client(self, person) -> Client:
        client = sign_in(person)  # with a verified second factor for access managers
        client.cookies["django_language"] = "en"
        return client


def publish_dns(dns) -> None:
    dns.txt("example.be", "v=spf1 ip4:127.0.0.1 -all")
    dns.txt("supplier.be", "v=spf1 ip4:127.0.0.1 -all")
    dns.txt("strict.example", "v=spf1 ip4:192.0.2.1 -all")
    dns.txt("_dmarc.strict.example", "v=DMARC1; p=reject")
    dns.drop("slow.example")


@pytest.fixture
def intake(world, settings, dns_server, transactional_db):
    settings.COFFRE_INTAKE_DOMAIN = INTAKE_DOMAIN
    settings.COFFRE_BOUNCE_DOMAIN = "bounces.coffre.test"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    publish_dns(dns_server)
    sock = listening_socket()
    server = ServerThread(lambda: start_server(sock=sock)).__enter__()
    try:
        yield IntakeWorld(world, dns_server, server.port)
    finally:
        server.__exit__(None, None, None)
