"""The DocConsumer and IMAP mailbox agents are in the catalog, complete, and found by a search."""

from django.contrib.staticfiles import finders

from coffre.agents import catalog
from coffre.agents.sdk import Category


def test_both_agents_are_in_the_catalog_with_a_complete_description():
    docconsumer, mailbox = catalog.agent("ebox-docconsumer"), catalog.agent("imap-mailbox")
    assert (docconsumer.category, mailbox.category) == (Category.ADMINISTRATION, Category.MAILBOX)
    assert docconsumer.secret_fields() == {"private_key"}
    assert mailbox.secret_fields() == {"password"}
    for agent in (docconsumer, mailbox):
        agent.check_description()
        assert finders.find(agent.logo), agent.logo


def test_a_search_finds_them():
    assert [agent.id for agent in catalog.search("e-box")] == ["ebox-docconsumer"]
    assert [agent.id for agent in catalog.search("imap")] == ["imap-mailbox"]
    assert "imap-mailbox" in [agent.id for agent in catalog.search("", Category.MAILBOX)]
