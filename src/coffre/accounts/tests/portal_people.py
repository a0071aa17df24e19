"""The people, enterprises, firms and business accounts of the linking and firms tests.

Import the fixture where you use it (``from coffre.accounts.tests.portal_people import world_fixture``,
``# noqa: F401``): the fixture's name is ``world``.

Enterprise A: paula (principal), cora (co-principal), alice (access manager), bob (member).
Enterprise B: bert (principal), charlie (member).
Firm "Fidu Lebrun" has A in its portfolio: fanny (its admin), felix (collaborator).
Firm "Other Fidu" has B in its portfolio: olga (its admin).
dave has no role anywhere (he links to business accounts).

Business accounts of A:
- ``100200`` commercial, postal code 1000, contracts C-1 and C-2; primary contact
  prim@a.example, billing contact bill@a.example;
- ``300400`` small business, postal code 4000, no contract; primary small-prim@a.example,
  billing small-bill@a.example.
"""

from dataclasses import dataclass

import pytest

from coffre.accounts import services_firms, services_linking
from coffre.accounts.models import (
    AccountingFirm,
    BusinessAccount,
    ClientFile,
    Collaborator,
    Enterprise,
    Membership,
    Role,
    User,
)
from coffre.accounts.services import register_enterprise
from coffre.audit.services import Actor
from coffre.core.cbe import make_cbe

A = make_cbe(2000001)
B = make_cbe(3000002)
ACTOR = Actor.cli("test")


@dataclass
class World:
    a: Enterprise
    b: Enterprise
    paula: User
    cora: User
    alice: User
    bob: User
    bert: User
    charlie: User
    dave: User
    fanny: User
    felix: User
    olga: User
    fidu: AccountingFirm
    other_fidu: AccountingFirm
    fidu_a: ClientFile
    other_b: ClientFile
    fanny_c: Collaborator
    felix_c: Collaborator
    olga_c: Collaborator
    commercial: BusinessAccount
    small: BusinessAccount

    def person(self, name: str) -> User | None:
        return None if name == "anonymous" else getattr(self, name)


def person(email: str, full_name: str = "", language: str = "en") -> User:
    # No password: the tests sign people in with force_login (Argon2 would make every test slow).
    return User.objects.create_user(email, None, full_name=full_name, language=language)


def role(user: User, enterprise: Enterprise, kind: str) -> Membership:
    return Membership.objects.create(user=user, enterprise=enterprise, role=kind)


@pytest.fixture(name="world")
def world_fixture(db) -> World:
    a = register_enterprise(A, "Alpha SRL", ACTOR, language="fr").enterprise
    b = register_enterprise(B, "Beta BV", ACTOR, language="nl").enterprise
    people = {
        name: person(f"{name}@example.be", name.capitalize(), language)
        for name, language in [
            ("paula", "fr"),
            ("cora", "nl"),
            ("alice", "en"),
            ("bob", "en"),
            ("bert", "nl"),
            ("charlie", "en"),
            ("dave", "en"),
            ("fanny", "fr"),
            ("felix", "en"),
            ("olga", "en"),
        ]
    }
    role(people["paula"], a, Role.PRINCIPAL)
    role(people["cora"], a, Role.CO_PRINCIPAL)
    role(people["alice"], a, Role.MANAGER)
    role(people["bob"], a, Role.MEMBER)
    role(people["bert"], b, Role.PRINCIPAL)
    role(people["charlie"], b, Role.MEMBER)

    fidu = services_firms.set_up_firm("Fidu Lebrun", actor=ACTOR).obj
    other_fidu = services_firms.set_up_firm("Other Fidu", actor=ACTOR).obj
    fanny_c = services_firms.set_collaborator(fidu, people["fanny"], is_admin=True, actor=ACTOR).obj
    felix_c = services_firms.set_collaborator(fidu, people["felix"], is_admin=False, actor=ACTOR).obj
    olga_c = services_firms.set_collaborator(other_fidu, people["olga"], is_admin=True, actor=ACTOR).obj
    fidu_a = services_firms.grant_firm_access(a, fidu, granted_by=people["paula"], actor=ACTOR).obj
    other_b = services_firms.grant_firm_access(b, other_fidu, granted_by=people["bert"], actor=ACTOR).obj

    commercial = services_linking.set_up_account(
        "100200", enterprise=a, postal_code="1000", kind=BusinessAccount.Kind.COMMERCIAL, actor=ACTOR
    ).obj
    for number in ["C-1", "C-2"]:
        services_linking.add_contract(commercial, number, actor=ACTOR)
    services_linking.set_contact(commercial, "prim@a.example", kind="primary", name="Prim", actor=ACTOR)
    services_linking.set_contact(commercial, "bill@a.example", kind="billing", name="Bill", actor=ACTOR)
    small = services_linking.set_up_account(
        "300400", enterprise=a, postal_code="4000", kind=BusinessAccount.Kind.SMALL_BUSINESS, actor=ACTOR
    ).obj
    services_linking.set_contact(small, "small-prim@a.example", kind="primary", name="", actor=ACTOR)
    services_linking.set_contact(small, "small-bill@a.example", kind="billing", name="", actor=ACTOR)

    return World(
        a=a,
        b=b,
        **people,
        fidu=fidu,
        other_fidu=other_fidu,
        fidu_a=fidu_a,
        other_b=other_b,
        fanny_c=fanny_c,
        felix_c=felix_c,
        olga_c=olga_c,
        commercial=commercial,
        small=small,
    )


def sign_in(client, user: User):
    """Sign ``user`` in with a verified second factor (access managers must use one): a confirmed
    TOTP device and a session that django-otp counts as verified with it."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client.force_login(user)
    device, _ = TOTPDevice.objects.get_or_create(user=user, name="tests", defaults={"confirmed": True})
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def assert_no_inline_code(html: str) -> None:
    """The strict CSP allows no inline script or style: the page must not need any."""
    import re

    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script>"
    assert "<style" not in html
    assert not re.search(r"\sstyle=", html), "style= attribute"
    assert not re.search(r"\son[a-z]+=", html), "on*= handler"
