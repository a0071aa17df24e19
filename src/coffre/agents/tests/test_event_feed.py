"""The e-Box event API never shows an agent's documents (they are not e-Box messages), neither
their arrival nor their reading, while the e-Box's own messages are listed as before."""

import pytest

from coffre.accounts.models import Enterprise, Membership, Role
from coffre.accounts.testing import make_person
from coffre.agents import engine, services
from coffre.agents.tests.conftest import credentials, web
from coffre.api.tests.conftest import A, world  # noqa: F401  (the fixture)
from coffre.api.tests.event_calls import feed_items
from coffre.audit.services import Actor
from coffre.events.models import Event
from coffre.mailbox import services as mailbox
from coffre.mailbox.models import Ebox, Message, Origin
from coffre.oauth.testing import rsa_keys  # noqa: F401  (the fixture)


@pytest.fixture
def agent_of_a(world, shelf):  # noqa: F811
    enterprise = Enterprise.objects.get(cbe=A)
    person = make_person("paula@example.be")
    Membership.objects.create(user=person, enterprise=enterprise, role=Role.MANAGER)
    shelf.add(2)
    return services.add_connection(
        person,
        Ebox.objects.get(enterprise=enterprise),
        "documents",
        "test-shelf",
        credentials(),
        actor=web("paula"),
    )


def test_the_feed_lists_the_eboxs_messages_and_never_an_agents_documents(world, agent_of_a):  # noqa: F811
    published = world.publish_pdf()
    engine.sync(agent_of_a.pk)
    fetched = Message.objects.filter(origin=Origin.AGENT).first()
    mailbox.consult(
        fetched, Actor(kind="web", name="paula@example.be"), "web.message", main_content=True, details={}
    )
    assert Event.objects.filter(in_feed=False).count() == 3  # two arrivals, one read: for the notifications
    items = feed_items(world.alice)
    assert [(item["eventData"]["eventType"], item["eventData"]["messageId"]) for item in items] == [
        ("newDocument", published)
    ]
    assert feed_items(world.alice, filter="readDocument") == []
    assert world.alice.get(f"ebox/messages/{fetched.message_id}").status_code == 404  # nor the messages API
