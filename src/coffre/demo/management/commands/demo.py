"""``coffre demo``: load demo data (idempotent) and print where to go and how to log in.

Creates: the operator account ``admin`` (password generated once, kept in var/demo/), the demo
enterprise "Boulangerie Dupont" and its e-Box with a few documents, its portal people (a
principal access manager with an authenticator app, a member, an accountant:
``coffre.demo.people``), two institutions (ONSS, SPF Finances) with their applications and message
types, and two webservice clients whose private keys and certificates are written under
var/demo/: ``sender`` (publishes as ONSS) and ``consumer`` (the bakery's accounting software
reading its e-Box); and two agents fetching the bills of the fake provider portal "Énergie Demo"
into the bakery's Purchases, one that works and one whose password expired (``coffre.demo.agents``).
"""

import datetime as dt
import json
import os
import secrets
import shlex
import sys
from decimal import Decimal
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from coffre.accounts.services import register_enterprise
from coffre.audit.services import Actor
from coffre.demo import agents as demo_agents
from coffre.demo import people as demo_people
from coffre.demo.pdf import simple_pdf
from coffre.mailbox import reference, services, store
from coffre.mailbox.models import Message
from coffre.mailbox.management.commands.refdata import apply_document
from coffre.oauth import scopes
from coffre.oauth import services as oauth_services

BAKERY = "0456789034"
ONSS = "0406798006"
SPF = "0308357159"
ACTOR = Actor.cli("demo")
ADMIN_EMAIL = "admin@coffre.example"

REFERENCE_DATA = {
    "organizations": [
        {"organizationId": ONSS, "shortName": {"fr": "ONSS", "nl": "RSZ", "de": "LSS"},
         "longName": {"fr": "Office national de sécurité sociale", "nl": "Rijksdienst voor Sociale Zekerheid",
                      "de": "Landesamt für soziale Sicherheit"},
         "url": {"fr": "https://www.onss.be", "nl": "https://www.rsz.be"},
         "contactBusiness": "Centre de contact: +32 2 511 51 51"},
        {"organizationId": SPF, "shortName": {"fr": "SPF Finances", "nl": "FOD Financiën", "de": "FÖD Finanzen"},
         "contactBusiness": "https://finances.belgium.be/fr/contact"},
    ],
    "applications": [
        {"applicationId": "DMFA", "name": {"fr": "DmfA", "nl": "DmfA", "de": "DmfA"},
         "description": {"fr": "Déclaration multifonctionnelle", "nl": "Multifunctionele aangifte"},
         "organizations": [ONSS]},
        {"applicationId": "MYMINFIN", "name": {"fr": "MyMinfin", "nl": "MyMinfin", "de": "MyMinfin"},
         "organizations": [SPF]},
    ],
    "messageTypes": [
        {"messageTypeId": "ATTEST", "name": {"fr": "Attestation", "nl": "Attest", "de": "Bescheinigung"},
         "validity": "1y", "organizations": [ONSS], "applications": ["DMFA"]},
        {"messageTypeId": "AVIS_PAIEMENT", "name": {"fr": "Avis de paiement", "nl": "Betalingsbericht",
                                                     "de": "Zahlungsaufforderung"},
         "validity": "6m", "organizations": [ONSS, SPF], "applications": ["DMFA", "MYMINFIN"]},
        {"messageTypeId": "AVERTISSEMENT_EXTRAIT_ROLE",
         "name": {"fr": "Avertissement-extrait de rôle", "nl": "Aanslagbiljet", "de": "Steuerbescheid"},
         "validity": "2y", "organizations": [SPF], "applications": ["MYMINFIN"]},
    ],
}

DOCUMENTS = [
    ("ONSS", "DMFA", "ATTEST", {"fr": "Attestation de régularité - 3e trimestre",
                                 "nl": "Attest van regelmatigheid - 3de kwartaal"},
     ["Office national de sécurité sociale", "Attestation de régularité", "Boulangerie Dupont SRL",
      "Trimestre: 2026/3", "Situation: en ordre de cotisations"], None),
    ("ONSS", "DMFA", "AVIS_PAIEMENT", {"fr": "Avis de paiement des cotisations trimestrielles"},
     ["Office national de sécurité sociale", "Avis de paiement", "Montant: 1.842,17 EUR",
      "Communication: +++090/9337/55493+++", "Échéance: 31/01/2027"],
     {"amount": "1842.17", "vat": "0.00", "iban": "BE39679200000108", "bic": "PCHQBEBB",
      "reference": {"structured": "+++090/9337/55493+++"}, "due": "2027-01-31"}),
    ("SPF", "MYMINFIN", "AVERTISSEMENT_EXTRAIT_ROLE", {"fr": "Avertissement-extrait de rôle - impôt des sociétés"},
     ["SPF Finances", "Avertissement-extrait de rôle", "Exercice d'imposition 2026", "Solde: 0,00 EUR"], None),
    ("ONSS", "DMFA", "ATTEST", {"fr": "Accusé de réception de la déclaration DmfA - 3e trimestre",
                                 "nl": "Ontvangstbewijs van de DmfA-aangifte - 3de kwartaal"},
     ["Office national de sécurité sociale", "Accusé de réception", "Déclaration DmfA 2026/3",
      "Boulangerie Dupont SRL", "Travailleurs déclarés: 6"], None),
    ("SPF", "MYMINFIN", "AVIS_PAIEMENT", {"fr": "Précompte professionnel - avis de paiement de décembre",
                                           "nl": "Bedrijfsvoorheffing - betalingsbericht december"},
     ["SPF Finances", "Précompte professionnel", "Période: 12/2026", "Montant: 2.317,40 EUR"],
     {"amount": "2317.40", "vat": "0.00", "iban": "BE33679200299946", "bic": "PCHQBEBB",
      "reference": {"structured": "+++461/0532/13411+++"}, "due": "2027-01-15"}),
]


def _key_and_certificate(directory: Path, name: str) -> tuple[Path, str]:
    key_path, cert_path = directory / f"{name}.key.pem", directory / f"{name}.cert.pem"
    if not key_path.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"Coffre demo {name}")])
        now = dt.datetime.now(dt.UTC)
        certificate = (
            x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650)).sign(key, hashes.SHA256())
        )
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
        cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path.read_text()


def _admin_password(directory: Path) -> str:
    path = directory / "admin-password"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(12))
    password = path.read_text().strip()
    users = get_user_model().objects
    admin = users.filter(email=ADMIN_EMAIL).first() or users.create_superuser(ADMIN_EMAIL, password)
    if not admin.check_password(password):
        admin.set_password(password)
        admin.save()
    return password


def _publish_documents(sender_clients: dict[str, str]) -> int:
    if Message.objects.filter(ebox__enterprise__cbe=BAKERY).exists():
        return 0
    for organization, application, message_type, subject, lines, payment in DOCUMENTS:
        cbe = ONSS if organization == "ONSS" else SPF
        content = store.write_content([simple_pdf(lines)])
        draft = services.MessageDraft(
            recipient_cbe=BAKERY, subject=subject, message_type_id=message_type, sender_organization_id=cbe,
            sender_application_id=application,
            attachments=[services.AttachmentDraft(content=content, file_name=f"{message_type.lower()}.pdf",
                                                  media_type="application/pdf", main_content=True)],
        )
        if payment:
            draft.payment = services.PaymentDraft(
                amount=Decimal(payment["amount"]), vat_amount=Decimal(payment["vat"]), currency="EUR",
                due_date=dt.datetime.fromisoformat(payment["due"] + "T00:00:00+01:00"),
                iban=payment["iban"], bic=payment["bic"], reference=payment["reference"],
            )
        services.publish_message(draft, services.Publisher(sender_clients[organization], cbe), ACTOR)
    return len(DOCUMENTS)


class Command(BaseCommand):
    help = "Load demo data (idempotent) and print how to use it."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print the demo credentials as JSON")

    def handle(self, *args, **options):
        directory = Path(settings.VAR_DIR) / "demo"
        directory.mkdir(parents=True, exist_ok=True)
        with transaction.atomic():
            for cbe, name in ((BAKERY, "Boulangerie Dupont SRL"), (ONSS, "Office national de sécurité sociale"),
                              (SPF, "SPF Finances")):
                register_enterprise(cbe, name, ACTOR)
            apply_document(REFERENCE_DATA, ACTOR)
            password = _admin_password(directory)
            people = demo_people.ensure_people(directory, BAKERY, ACTOR)
        clients = {}
        for name, cbe, scope_list in (
            ("sender", ONSS, [scopes.PUBLICATION_SENDER, scopes.REFERENCE_DATA]),
            ("spf-sender", SPF, [scopes.PUBLICATION_SENDER]),
            ("consumer", BAKERY, [scopes.MESSAGES_FULL, scopes.SUMMARY_OWN, scopes.REFERENCE_DATA]),
        ):
            key_path, certificate = _key_and_certificate(directory, name)
            client, _ = oauth_services.create_client(cbe, certificate, scope_list, f"demo {name}", ACTOR)
            clients[name] = {"client_id": client.client_id, "enterprise": cbe, "private_key": str(key_path),
                             "certificate": str(directory / f"{name}.cert.pem")}
        published = _publish_documents({"ONSS": clients["sender"]["client_id"],
                                        "SPF": clients["spf-sender"]["client_id"]})
        agents = demo_agents.ensure_agents(BAKERY, demo_people.PEOPLE[0][0], ACTOR)
        digests = _notifications()
        summary = {"admin": {"email": ADMIN_EMAIL, "password": password}, "clients": clients,
                   "demo_enterprise": BAKERY, "documents_published": published, "people": people,
                   "agents": agents}
        (directory / "credentials.json").write_text(json.dumps(summary, indent=2))
        os.chmod(directory / "credentials.json", 0o600)
        if options["json"]:
            self.stdout.write(json.dumps(summary))
            return
        self.stdout.write(
            f"Demo data ready ({published} new document(s)).\n"
            f"  Operator console: {portal_url()}admin/  e-mail {ADMIN_EMAIL}, password {password}\n"
            f"  Outbox (every e-mail Coffre sent, same operator login): {portal_url()}operator/outbox/\n"
            f"  Demo e-Box: Boulangerie Dupont SRL ({BAKERY})\n"
            f"  Webservice clients (keys under {directory}):\n"
            + "".join(f"    {name}: {info['client_id']} (enterprise {info['enterprise']})\n"
                      for name, info in clients.items())
            + f"  Portal: {portal_url()}accounts/login/ (once `coffre run` listens), the bakery's people:\n"
            + "".join(_person_line(person) for person in people)
            + _agent_lines(agents)
            + _digest_lines(digests)
        )


DEMO_PHRASE = "Croissant au beurre"


def _agent_lines(agents: list[dict]) -> str:
    """Where to see the demo's agents, and the fake provider portal they fetch from."""
    states = ", ".join(
        f"{item['login']}: {item['status']}, {item['documents']} document(s)" for item in agents
    )
    return (
        f"  Agents of the bakery (Marie adds and removes them, Luc sees and syncs them): "
        f"{portal_url()}e/{BAKERY}/agents/\n"
        f"    Énergie Demo into Purchases ({states}); operators: {portal_url()}operator/agents/\n"
        f"    The fake provider portal they fetch from: {settings.COFFRE_DEMO_PORTAL_URL}\n"
        f"    (COFFRE_DEMO_PORTAL_URL; served by `coffre run` when COFFRE_DEMO_PORTAL is on, as `make run`\n"
        f"    does): its accounts are listed there, password \"demo\"; publish a bill there, then \"Sync now\".\n"
    )


def _notifications() -> int:
    """The bakery's anti-phishing phrase, Luc's instant alerts, and the digest of the demo's
    documents sent at once, as the night would (once a day: later runs find nothing new)."""
    from coffre.accounts.models import Enterprise, User
    from coffre.mailbox.models import Ebox
    from coffre.notifications import services as notifications
    from coffre.notifications.services_alerts import set_instant_alerts

    bakery = Enterprise.objects.get(cbe=BAKERY)
    Ebox.objects.filter(enterprise=bakery, anti_phishing_phrase="").update(anti_phishing_phrase=DEMO_PHRASE)
    set_instant_alerts(User.objects.get(email=demo_people.PEOPLE[1][0]), [bakery], ACTOR)
    return notifications.run_nightly().digests


def _digest_lines(digests: int) -> str:
    outbox = Path(settings.EMAIL_FILE_PATH) if hasattr(settings, "EMAIL_FILE_PATH") else None
    where = (
        f"files in {outbox}/ (written by `coffre run`'s worker)" if outbox else "sent through the SMTP relay"
    )
    done = (
        f"{digests} nightly digest e-mail(s) queued now, as the night at 02:00 would"
        if digests else "no new nightly digest (tonight's was made, or nothing new arrived)"
    )
    return (
        f"  Notifications: {done}; the outgoing mails are {where}\n"
        f"    and on the outbox page above. Check a mail's reference code at {portal_url()}genuine/;\n"
        f"    Luc gets an instant alert for each new document.\n"
    )


def portal_url() -> str:
    """Where the portal will be: COFFRE_BASE_URL, else the first address `coffre run` binds."""
    if settings.COFFRE_BASE_URL:
        return settings.COFFRE_BASE_URL + "/"
    bind = (os.environ.get("COFFRE_BIND") or "127.0.0.1:8000").split(",")[0].strip()
    if bind.startswith(("unix:", "fd://")):
        return "/"
    host, _, port = bind.rpartition(":")
    if not host:
        host, port = bind, "8000"
    if host in ("0.0.0.0", "[::]", "::"):
        host = "127.0.0.1"
    return f"http://{host}:{port}/"


def coffre_command() -> str:
    """How to run `coffre` as this command was run (`.venv/bin/coffre` under `make run`)."""
    program = sys.argv[0] if sys.argv else ""
    return shlex.quote(program) if os.path.basename(program) == "coffre" else "coffre"


def _person_line(person: dict) -> str:
    line = f"    {person['role']}: e-mail {person['email']}, password {person['password']}\n"
    if "totp_secret" in person:
        line += (
            f"      two-factor code: {coffre_command()} demo-totp {person['email']}"
            f" (or add the key {person['totp_secret']} to an authenticator app)\n"
        )
    return line
