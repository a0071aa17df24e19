"""The portal's menus (coffre.accounts.navigation): each standing finds every page it may open by
following the menus from the home page, and no menu leads it to a page it may not open.

Expected menus are written out here (not computed from the matrix): the enterprise menu of an
access manager has seven entries, that of a member the mailbox and the agents, that of an accountant
or a firm's collaborator only the mailbox; "E-mail access" is there for the approvers of senders only (the principal, A's client
admin, and felix, attached to A); the person's menu has My documents for everyone, the portfolio
for a firm's collaborators only.
"""

from collections import deque
from html.parser import HTMLParser

import pytest
from django.urls import resolve

from coffre.accounts.tests.standings import (  # noqa: F401
    STANDINGS,
    client_of,
    portal_fixture,
    world_fixture,
)

MANAGER_MENU = [
    "Messages",
    "Agents",
    "People and roles",
    "e-Box management",
    "Accounting firms",
    "Client admin",
    "Security log",
]
ENTERPRISE_MENU = {
    "principal": [*MANAGER_MENU[:-1], "E-mail access", "Security log"],  # A's client admin
    "co_principal": MANAGER_MENU,
    "manager": MANAGER_MENU,
    "co_manager": MANAGER_MENU,
    "member": ["Messages", "Agents"],
    "accountant": ["Messages"],
    "firm_admin": ["Messages"],
    "firm_collaborator": ["Messages", "E-mail access"],  # attached to A
    "charlie": ["Messages", "Agents"],  # in B, his enterprise, a member
}
PERSON_MENU = ["My documents", "Settings", "Linked business accounts", "Register an enterprise"]
FIRM_PERSON_MENU = [
    "My documents",
    "Settings",
    "Linked business accounts",
    "Portfolio",
    "Register an enterprise",
]
MENU_PAGES = {
    "Messages": "mailbox:list",
    "Agents": "agents:e_agents",
    "People and roles": "accounts:people",
    "e-Box management": "mailbox:management",
    "Accounting firms": "accounts:enterprise_firms",
    "Client admin": "accounts:client_admin",
    "Security log": "accounts:security_log",
    "E-mail access": "intake:email_access",
    "My documents": "intake:my_documents",
    "Settings": "accounts:settings",
    "Linked business accounts": "accounts:linked_accounts",
    "Portfolio": "accounts:portfolio",
    "Register an enterprise": "accounts:register_enterprise",
}
SIGNED_IN = [standing for standing in STANDINGS if standing != "anonymous"]


class Navs(HTMLParser):
    """The page's ``<nav>`` landmarks: their label and their links (href, text, aria-current)."""

    def __init__(self, html: str):
        super().__init__()
        self.navs: dict[str, list[dict]] = {}
        self._nav: str | None = None
        self._link: dict | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "nav":
            self._nav = attrs.get("aria-label", "")
            self.navs.setdefault(self._nav, [])
        elif tag == "a" and self._nav is not None:
            self._link = {"href": attrs.get("href", ""), "current": attrs.get("aria-current"), "text": ""}

    def handle_data(self, data):
        if self._link is not None:
            self._link["text"] += data

    def handle_endtag(self, tag):
        if tag == "a" and self._link is not None:
            self._link["text"] = " ".join(self._link["text"].split())
            self.navs[self._nav].append(self._link)
            self._link = None
        elif tag == "nav":
            self._nav = None

    def labels(self, nav: str) -> list[str]:
        return [link["text"] for link in self.navs.get(nav, [])]


def in_english(client):
    """The labels are compared in English: the language switch (cookie) wins over the person's
    own language (some people of the portal read French or Dutch)."""
    client.cookies["django_language"] = "en"
    return client


def enterprise_nav(page: Navs) -> str:
    return next((label for label in page.navs if label.startswith("e-Box of ")), "")


@pytest.mark.parametrize("standing", SIGNED_IN)
def test_the_menus_show_what_the_standing_may_open(portal, standing):
    client = in_english(client_of(standing, portal))
    home = client.get("/", follow=True)
    assert home.status_code == 200
    page = Navs(home.content.decode())
    assert page.labels(enterprise_nav(page)) == ENTERPRISE_MENU[standing]
    firm_people = standing in ("firm_admin", "firm_collaborator")
    assert page.labels("Your account") == (FIRM_PERSON_MENU if firm_people else PERSON_MENU)
    enterprises = page.labels("Your enterprises")
    assert ("Alpha SRL" in enterprises) is (standing != "charlie")
    assert ("Beta BV" in enterprises) is (standing == "charlie")


@pytest.mark.parametrize("standing", SIGNED_IN)
def test_every_page_of_the_menus_is_reached_and_opens(portal, standing):
    """Follow every link of every menu from the home page: each answers 200, marks itself as the
    current page, and together they are the standing's whole menu (in every enterprise it has)."""
    client = in_english(client_of(standing, portal))
    start = client.get("/", follow=True).redirect_chain[-1][0]
    seen, queue, reached = {start}, deque([start]), set()
    while queue:
        path = queue.popleft()
        response = client.get(path)
        assert response.status_code == 200, f"{standing}: the menu leads to {path}: {response.status_code}"
        page = Navs(response.content.decode())
        reached.add(resolve(path).view_name)
        for nav, links in page.navs.items():
            if nav == "Pages":  # a list's pager, not a menu
                continue
            here = [link for link in links if link["href"] == path]
            assert all(link["current"] == "page" for link in here), f"{path}: {nav} does not mark it"
            for link in links:
                target = link["href"]
                if target.startswith("/") and "?" not in target and target not in seen:
                    seen.add(target)
                    queue.append(target)
    firm_people = standing in ("firm_admin", "firm_collaborator")
    expected = {MENU_PAGES[label] for label in ENTERPRISE_MENU[standing]}
    expected |= {MENU_PAGES[label] for label in (FIRM_PERSON_MENU if firm_people else PERSON_MENU)}
    if "E-mail access" in ENTERPRISE_MENU[standing]:
        expected.add("intake:email_activity")  # its second tab
    assert reached == expected


def test_a_page_under_a_menu_entry_marks_the_entry(portal):
    client = client_of("manager", portal)
    message = client.get(f"/e/{portal.a['cbe']}/m/{portal.a['message']}/")
    page = Navs(message.content.decode())
    links = {link["text"]: link["current"] for link in page.navs[enterprise_nav(page)]}
    assert links["Messages"] == "true" and links["e-Box management"] is None
    invite = client.post(f"/accounts/e/{portal.a['cbe']}/people/invite/", {"email": "", "role": "member"})
    assert invite.status_code == 400  # the form again, under "People and roles"
    page = Navs(invite.content.decode())
    assert {link["text"]: link["current"] for link in page.navs[enterprise_nav(page)]}[
        "People and roles"
    ] == "true"


def test_without_standing_there_is_no_enterprise_menu(portal):
    response = client_of("charlie", portal).get(f"/e/{portal.a['cbe']}/")
    assert response.status_code == 404
    assert enterprise_nav(Navs(response.content.decode())) == ""
    assert "Alpha SRL" not in response.content.decode()


def test_the_header_names_ten_enterprises_and_leads_to_all_of_them(portal, world):
    from coffre.accounts import services_firms
    from coffre.accounts.services import register_enterprise
    from coffre.accounts.tests.portal_people import ACTOR
    from coffre.core.cbe import make_cbe

    for number in range(11):
        client = register_enterprise(make_cbe(5_000_000 + number), f"Client {number:02}", ACTOR).enterprise
        services_firms.grant_firm_access(client, world.fidu, granted_by=world.paula, actor=ACTOR)
    felix = Navs(client_of("firm_collaborator", portal).get("/accounts/settings/").content.decode())
    assert len(felix.labels("Your enterprises")) == 11  # ten, and the way to all of them
    assert felix.navs["Your enterprises"][-1] == {
        "href": "/accounts/portfolio/",
        "current": None,
        "text": "All your enterprises",
    }
    bob = Navs(client_of("member", portal).get("/accounts/settings/").content.decode())
    assert bob.labels("Your enterprises") == ["Alpha SRL"]
