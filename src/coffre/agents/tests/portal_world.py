"""The world of the portal agent's tests: the fake portal served over real HTTP on 127.0.0.1 with
one account per behaviour, and the shipped ``demo-energy`` agent pointed at it.

alice's account ("ok") has 25 bills (3 pages of 10); every other account is named after its mode
and has 3. Test modules import the fixtures they use from here.
"""

import socket
from pathlib import Path

import pytest
import yaml

from coffre.agents import catalog
from coffre.agents.fakeportal.server import serve
from coffre.agents.fakeportal.state import MODES, PortalState
from coffre.agents.providers.portal import PORTALS_DIR, PortalAgent

ALICE = "alice.customer@example.test"
ALICE_PASSWORD = "Alice-S3cret-pw!"  # distinctive, to look for it in messages and logs
PASSWORD = "Other-S3cret-pw!"


def login_of(mode: str) -> str:
    return f"{mode}@example.test"


def alice() -> dict:
    return {"login": ALICE, "password": ALICE_PASSWORD}


def account(mode: str) -> dict:
    return {"login": login_of(mode), "password": PASSWORD}


@pytest.fixture
def portal():
    state = PortalState()
    state.add_account(ALICE, ALICE_PASSWORD, "ok", bills=25)
    for mode in MODES:
        state.add_account(login_of(mode), PASSWORD, mode, bills=3)
    with serve(state) as running:
        yield running


@pytest.fixture
def energy(portal, settings) -> PortalAgent:
    """The catalog's demo-energy agent, logging in to the portal this test serves."""
    settings.COFFRE_DEMO_PORTAL_URL = portal.url
    return catalog.agent("demo-energy")


def demo_description() -> dict:
    return yaml.safe_load((PORTALS_DIR / "demo-energy.yaml").read_text(encoding="utf-8"))


def write_description(directory: Path, data: dict, name: str = "demo-energy") -> Path:
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def variant(directory: Path, change) -> PortalAgent:
    """demo-energy with ``change(description)`` applied (it still follows COFFRE_DEMO_PORTAL_URL)."""
    data = demo_description()
    change(data)
    return PortalAgent.from_file(write_description(directory, data))


@pytest.fixture
def silent_server():
    """A TCP port that accepts connections and never answers (a provider that hangs)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
