"""Every status through the real entry points: a connection of the shipped demo-energy agent added
as a person adds it (``services.add_connection``), synced by the engine over real HTTP against the
fake provider portal, one account per behaviour of the provider; then what the person does."""

import pytest

from coffre.agents import engine, services
from coffre.agents.fakeportal.server import serve
from coffre.agents.fakeportal.state import MODES, PortalState
from coffre.agents.models import Connection, Status
from coffre.agents.sdk import UserAction
from coffre.agents.tests.conftest import web
from coffre.mailbox.models import Message, Origin

PASSWORD = "Other-S3cret-pw!"


def login_of(mode: str) -> str:
    return f"{mode}@example.test"


@pytest.fixture
def provider(settings):
    """The fake provider portal over real HTTP, one account per mode, 3 bills each."""
    state = PortalState()
    for mode in MODES:
        state.add_account(login_of(mode), PASSWORD, mode, bills=3)
    with serve(state) as running:
        settings.COFFRE_DEMO_PORTAL_URL = running.url
        yield running


def connect(portal, mode: str, password: str = PASSWORD) -> Connection:
    return services.add_connection(
        portal.people["alice"],
        portal.ebox_a,
        "purchases",
        "demo-energy",
        {"login": login_of(mode), "password": password},
        actor=web("alice"),
    )


def synced(connection: Connection) -> Connection:
    engine.sync(connection.pk)
    return Connection.objects.get(pk=connection.pk)


def bills(portal) -> int:
    return Message.objects.filter(ebox=portal.ebox_a, folder="purchases", origin=Origin.AGENT).count()


@pytest.mark.parametrize(
    "mode, status, user_action",
    [
        ("ok", Status.OK, ""),
        ("wrong-password", Status.LOGIN_FAILED, ""),
        ("expired-password", Status.USER_ACTION_NEEDED, UserAction.CHANGE_PASSWORD),
        ("terms", Status.USER_ACTION_NEEDED, UserAction.ACCEPT_TERMS),
        ("two-factor", Status.USER_ACTION_NEEDED, UserAction.TWO_FACTOR),
        ("maintenance", Status.VENDOR_DOWN, ""),
        ("changed-layout", Status.UNKNOWN_ERROR, ""),
    ],
)
def test_each_behaviour_of_the_provider_ends_in_its_status(portal, provider, mode, status, user_action):
    connection = synced(connect(portal, mode))
    assert (connection.status, connection.user_action) == (status, user_action)
    assert bills(portal) == (3 if status == Status.OK else 0)
    waits_for_person = status in (Status.LOGIN_FAILED, Status.USER_ACTION_NEEDED)
    assert (connection.next_run_at is None) == waits_for_person  # never retried on its own


def test_the_person_mends_a_failed_login_and_an_action_on_the_providers_site(portal, provider):
    refused = synced(connect(portal, "ok", password="not the password"))
    assert refused.status == Status.LOGIN_FAILED
    services.replace_credentials(
        portal.people["alice"], refused.pk, {"login": login_of("ok"), "password": PASSWORD}, actor=web("alice")
    )
    assert synced(refused).status == Status.OK and bills(portal) == 3

    terms = synced(connect(portal, "terms"))
    assert terms.status == Status.USER_ACTION_NEEDED
    provider.state.set_mode(login_of("terms"), "ok")  # the person accepted the terms there
    services.user_action_done(portal.people["alice"], terms.pk, actor=web("alice"))
    assert synced(terms).status == Status.OK
