"""The demo's portal people of the bakery: a principal access manager with an authenticator app
(two-factor authentication is compulsory for access managers), a member and an accountant.

Their passwords and the authenticator's secret are generated once and kept in
``var/demo/people.json`` (readable by the owner only), so that running ``coffre demo`` again
changes nothing. ``coffre demo-totp EMAIL`` prints the current code of a demo person's app.
"""

import base64
import json
import os
import secrets
from pathlib import Path

from django.utils import timezone

from coffre.accounts.models import Enterprise, Role
from coffre.accounts.services_auth import create_verified_person
from coffre.accounts.services_roles import set_role_by_operator
from coffre.accounts.services_two_factor import ensure_authenticator
from coffre.audit.services import Actor

PEOPLE = [
    # (email, full name, language, role, authenticator)
    ("marie.dupont@boulangerie-dupont.example", "Marie Dupont", "fr", Role.PRINCIPAL, True),
    ("luc.peeters@boulangerie-dupont.example", "Luc Peeters", "nl", Role.MEMBER, False),
    ("sophie.lebrun@fidu-lebrun.example", "Sophie Lebrun", "fr", Role.ACCOUNTANT, False),
]


def secrets_path(directory: Path) -> Path:
    return directory / "people.json"


def load_secrets(directory: Path) -> dict:
    path = secrets_path(directory)
    return json.loads(path.read_text()) if path.exists() else {}


def _keep_secrets(directory: Path, kept: dict) -> None:
    path = secrets_path(directory)
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(kept, handle, indent=2)
    os.replace(temporary, path)


def authenticator_secret(key_hex: str) -> str:
    return base64.b32encode(bytes.fromhex(key_hex)).decode().rstrip("=")


def ensure_people(directory: Path, enterprise_cbe: str, actor: Actor) -> list[dict]:
    """Create (or bring back) the demo people and their roles; their credentials, for printing."""
    kept = load_secrets(directory)
    changed = False
    for email, _name, _language, _role, authenticator in PEOPLE:
        entry = kept.setdefault(email, {})
        if "password" not in entry:
            entry["password"] = secrets.token_urlsafe(12)
            changed = True
        if authenticator and "totp_key" not in entry:
            entry["totp_key"] = secrets.token_hex(20)
            changed = True
    if changed:
        _keep_secrets(directory, kept)
    enterprise = Enterprise.objects.get(cbe=enterprise_cbe)
    people = []
    for email, name, language, role, authenticator in PEOPLE:
        entry = kept[email]
        person, _ = create_verified_person(
            email, entry["password"], full_name=name, language=language, actor=actor
        )
        set_role_by_operator(enterprise, person, role, actor=actor)
        summary = {"email": email, "password": entry["password"], "role": str(role)}
        if authenticator:
            ensure_authenticator(person, entry["totp_key"], actor)
            summary["totp_secret"] = authenticator_secret(entry["totp_key"])
        people.append(summary)
    _ensure_firm(enterprise, actor)
    # Seed 000: the e-Box's notifications go to the principal's address (when none is set yet).
    from coffre.mailbox.models import Ebox

    Ebox.objects.filter(enterprise=enterprise, notification_email="").update(
        notification_email=PEOPLE[0][0],
        notification_status="verified",
        notification_verified_at=timezone.now(),
    )
    return people


FIRM_NAME = "Fiduciaire Lebrun"


def _ensure_firm(enterprise: Enterprise, actor: Actor) -> None:
    """Sophie's accounting firm has the bakery in its portfolio, attached to her and a favourite,
    so that a newcomer logged in as Sophie sees the portfolio pages (seed 002)."""
    from coffre.accounts.models import Assignment, Favourite, User
    from coffre.accounts.services_firms import attach, grant_firm_access, set_collaborator, set_up_firm

    sophie = User.objects.get(email=PEOPLE[2][0])
    firm = set_up_firm(FIRM_NAME, actor=actor).obj
    collaborator = set_collaborator(firm, sophie, is_admin=True, actor=actor).obj
    client_file = grant_firm_access(enterprise, firm, granted_by=None, actor=actor).obj
    if not Assignment.objects.filter(collaborator=collaborator, client_file=client_file).exists():
        attach(client_file, collaborator, actor=actor)
    Favourite.objects.get_or_create(collaborator=collaborator, client_file=client_file)
