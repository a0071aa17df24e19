"""The catalog of agents: every agent Coffre has, in one plain list (no import magic).

To add an agent: write its module under ``coffre.agents.providers`` (docs/agents.md), import its
class here and add an instance to ``AGENTS``. ``agent(id)`` finds one; ``search(text, category)``
is the catalog page's search (name, provider and category, accents and case ignored).
"""

import unicodedata

from coffre.agents.providers.docconsumer import DocConsumerAgent
from coffre.agents.providers.imap_mailbox import ImapMailboxAgent
from coffre.agents.providers.portal import portal_agent
from coffre.agents.sdk import Agent, Category

AGENTS: tuple[Agent, ...] = (
    DocConsumerAgent(),  # an enterprise's e-Box, from any Message Registry REST v2.1
    ImapMailboxAgent(),  # the attachments of a mailbox folder
    portal_agent("demo-energy"),  # the demo's fake provider portal (coffre.agents.fakeportal)
)


class UnknownAgent(LookupError):
    pass


def _checked(agents: tuple[Agent, ...]) -> dict[str, Agent]:
    found: dict[str, Agent] = {}
    for item in agents:
        item.check_description()
        if item.id in found:
            raise ValueError(f"two agents have the id {item.id!r}")
        found[item.id] = item
    return found


_BY_ID = _checked(AGENTS)


def agent(agent_id: str) -> Agent:
    try:
        return _BY_ID[agent_id]
    except KeyError:
        raise UnknownAgent(agent_id) from None


def all_agents() -> list[Agent]:
    return sorted(_BY_ID.values(), key=lambda item: (item.name.lower(), item.id))


def _folded(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", str(text))
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def search(text: str = "", category: str = "") -> list[Agent]:
    """The agents whose name, provider or category holds every word of ``text``."""
    words = _folded(text).split()
    found = []
    for item in all_agents():
        if category and item.category != Category(category):
            continue
        haystack = _folded(f"{item.name} {item.provider} {item.category} {item.description}")
        if all(word in haystack for word in words):
            found.append(item)
    return found
