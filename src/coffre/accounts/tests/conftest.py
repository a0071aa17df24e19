"""The people of the portal tests.

- enterprise A: alice (principal access manager, with an authenticator, signed in verified),
  bob (member), an accountant (seed 001: external, read and download only);
- enterprise B: dora (principal) and charlie (member).
``login(name)`` signs the test client in as one of them ("anonymous" leaves it signed out).
"""

from dataclasses import dataclass

import pytest

from coffre.accounts.models import Enterprise, Role, User
from coffre.accounts.services import register_enterprise
from coffre.accounts.testing import authenticator_for, give_role, make_person, sign_in
from coffre.audit.services import Actor
from coffre.core.cbe import make_cbe

A = make_cbe(2000001)
B = make_cbe(3000002)


@dataclass
class World:
    a: Enterprise
    b: Enterprise
    alice: User
    bob: User
    charlie: User
    accountant: User
    dora: User
    devices: dict


@pytest.fixture
def world(db, fast_hashing) -> World:
    actor = Actor.cli("test")
    a = register_enterprise(A, "Alpha SRL", actor).enterprise
    b = register_enterprise(B, "Beta BV", actor).enterprise
    alice = make_person("alice@alpha.example", full_name="Alice")
    bob = make_person("bob@alpha.example", full_name="Bob")
    accountant = make_person("accountant@fidu.example", full_name="Anne Accountant")
    dora = make_person("dora@beta.example")
    charlie = make_person("charlie@beta.example")
    give_role(a, alice, Role.PRINCIPAL)
    give_role(a, bob, Role.MEMBER)
    give_role(a, accountant, Role.ACCOUNTANT)
    give_role(b, dora, Role.PRINCIPAL)
    give_role(b, charlie, Role.MEMBER)
    devices = {"alice": authenticator_for(alice), "dora": authenticator_for(dora)}
    return World(a, b, alice, bob, charlie, accountant, dora, devices)


@pytest.fixture
def login(client, world):
    def sign_in_as(name: str):
        client.logout()
        if name != "anonymous":
            sign_in(client, getattr(world, name), world.devices.get(name))
        return client

    return sign_in_as


@pytest.fixture
def deliver(django_capture_on_commit_callbacks):
    """``with deliver(): ...``: the e-mails sent on commit inside the block reach the outbox."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def fast_hashing(settings):
    """For tests that check many passwords: a cheap hasher (Argon2 costs ~0.1 s a check)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
