"""Fixtures of the intake's tests: DKIM keys (made once a run) and messages as mail clients send them."""

import pytest

from coffre.intake.resolver import Resolver
from coffre.testing.dkim import DkimKey


@pytest.fixture(scope="session")
def dkim_key() -> DkimKey:
    return DkimKey.generate()


@pytest.fixture(scope="session")
def other_dkim_key() -> DkimKey:
    return DkimKey.generate()


@pytest.fixture
def resolver(dns_server) -> Resolver:
    return Resolver([dns_server.nameserver], timeout=0.5)
