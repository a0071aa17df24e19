"""The agents' pages of a box (coffre.agents.views): the agents of an enterprise and of "My
documents", the catalog with its search and "suggest an agent", and adding an agent; tried by
alice (access manager of A), bob (member of A), ann (accountant of A), carl (collaborator of a firm
with A in its portfolio), charlie (member of B) and a visitor."""

import pytest
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from coffre.accounts.models import Membership, Role
from coffre.accounts.tests.portal_people import assert_no_inline_code
from coffre.agents import engine
from coffre.agents.models import AgentSuggestion, Connection, Status
from coffre.agents.tests.conftest import add
from coffre.agents.tests.fakes import LOGIN, PASSWORD, ShelfAgent
from coffre.audit.models import AuditRecord
from coffre.mailbox.services_spaces import personal_box
from coffre.mailbox.tests.conftest import person

PEOPLE = ("alice", "bob", "ann", "carl", "charlie", "anonymous")
SEE = {"alice": 200, "bob": 200, "ann": 403, "carl": 403, "charlie": 404, "anonymous": "login"}
MANAGE = {**SEE, "bob": 403}


def answer(response) -> object:
    if response.status_code == 302 and response["Location"].startswith(reverse("accounts:login")):
        return "login"
    return response.status_code


def page(response) -> str:
    html = response.content.decode()
    assert_no_inline_code(html)
    return html


def e(name: str, portal, *args) -> str:
    return reverse(f"agents:e_{name}", args=[portal.a.cbe, *args])


def form(password: str = PASSWORD, **extra) -> dict:
    return {
        "folder": "documents",
        "credentials-login": LOGIN,
        "credentials-password": password,
        "credentials-contract": "",
        **extra,
    }


# --- who may open what -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, args, wanted",
    [
        ("agents", (), SEE),
        ("catalog", (), SEE),
        ("add", (ShelfAgent.id,), MANAGE),
    ],
)
def test_each_person_gets_what_the_matrix_says(portal, shelf, name, args, wanted):
    url = e(name, portal, *args)
    got = {person: answer(portal.client(person).get(url)) for person in PEOPLE}
    assert got == wanted


def test_a_person_reaches_their_own_agents_only(portal, shelf):
    mine = add(portal, "bob", box=personal_box(portal.people["bob"]), label="Bob's phone")
    add(portal, "charlie", box=personal_box(portal.people["charlie"]), label="Charlie's phone")
    bob = portal.client("bob")
    html = page(bob.get(reverse("agents:my_agents")))
    assert "Bob&#x27;s phone" in html and "Charlie" not in html
    assert bob.get(reverse("agents:my_connection", args=[mine.pk])).status_code == 200
    assert portal.client("charlie").get(reverse("agents:my_connection", args=[mine.pk])).status_code == 404
    assert answer(portal.client("anonymous").get(reverse("agents:my_agents"))) == "login"


def manager_of_b(portal):
    """bert, access manager of B (to add B's agents)."""
    bert = person("bert@example.be")
    Membership.objects.create(user=bert, enterprise=portal.b, role=Role.MANAGER)
    portal.people["bert"] = bert
    return bert


def test_another_boxs_connection_is_not_found_through_this_box(portal, shelf):
    """An id of B's connection in A's URLs, of A's in "My documents" URLs: 404, for everyone."""
    manager_of_b(portal)
    of_b = add(portal, "bert", box=portal.ebox_b)
    of_a = add(portal, "alice")
    alice = portal.client("alice")
    assert alice.get(e("connection", portal, of_b.pk)).status_code == 404
    assert alice.post(e("remove", portal, of_b.pk)).status_code == 404
    assert portal.client("charlie").get(e("connection", portal, of_b.pk)).status_code == 404
    assert portal.client("bert").post(e("sync", portal, of_b.pk)).status_code == 404
    assert alice.get(reverse("agents:my_connection", args=[of_a.pk])).status_code == 404
    assert alice.post(reverse("agents:my_remove", args=[of_a.pk])).status_code == 404
    assert Connection.objects.filter(pk__in=[of_a.pk, of_b.pk]).count() == 2


# --- the agents of a space -------------------------------------------------------------------------


def test_the_agents_page_shows_both_spaces_each_status_in_words_and_the_syncs(portal, shelf, clock):
    shelf.add(3)
    ok = add(portal, label="Shop electricity", folder="purchases")
    engine.sync(ok.pk)
    refused = add(portal, label="Old account", password="wrong")
    engine.sync(refused.pk)
    html = page(portal.client("bob").get(e("agents", portal)))
    assert "Agents fetching into Documents" in html and "Agents fetching into Purchases" in html
    purchases = html[html.index("Agents fetching into Purchases") :]
    documents = html[
        html.index("Agents fetching into Documents") : html.index("Agents fetching into Purchases")
    ]
    assert "Shop electricity" in purchases and "Old account" in documents
    assert "The agent fetches the new documents at its usual frequency." in purchases
    assert "The provider refused the login" in documents
    assert "Waits for you (never retried by itself)" in documents
    row = purchases[purchases.index("Shop electricity") :]
    assert "<td>3</td>" in row  # documents brought
    assert "Add an agent" not in html  # bob is a member: access managers add agents
    assert "Add an agent" in page(portal.client("alice").get(e("agents", portal)))


def test_the_enterprise_menu_leads_to_the_agents(portal, shelf):
    html = page(portal.client("bob").get(reverse("mailbox:list", args=[portal.a.cbe])))
    assert f'href="{e("agents", portal)}"' in html
    assert f'href="{e("agents", portal)}"' not in page(
        portal.client("ann").get(reverse("mailbox:list", args=[portal.a.cbe]))
    )
    mine = page(portal.client("ann").get(reverse("intake:my_documents")))
    assert f'href="{reverse("agents:my_agents")}"' in mine


# --- the catalog -----------------------------------------------------------------------------------


def test_the_catalog_finds_agents_by_name_or_provider_and_by_category(portal, shelf):
    alice = portal.client("alice")
    every = page(alice.get(e("catalog", portal)))
    assert "Énergie Demo" in every and "Shelf test agent" in every
    assert "every 3 days" in every  # the frequency in words
    by_provider = page(alice.get(e("catalog", portal), {"q": "shelf & co"}))
    assert "Shelf test agent" in by_provider and "Énergie Demo" not in by_provider
    by_name = page(alice.get(e("catalog", portal), {"q": "energie"}))  # accents ignored
    assert "Énergie Demo" in by_name and "Shelf test agent" not in by_name
    energy = page(alice.get(e("catalog", portal), {"category": "energy"}))
    assert "Énergie Demo" in energy and "Shelf test agent" not in energy
    assert 'value="energy" selected' in energy
    add_link = reverse("agents:e_add", args=[portal.a.cbe, "demo-energy"]) + "?folder=purchases"
    assert add_link in page(alice.get(e("catalog", portal), {"folder": "purchases"}))
    assert "Suggest an agent" not in every


def test_a_member_sees_the_catalog_without_the_add_buttons(portal, shelf):
    html = page(portal.client("bob").get(e("catalog", portal)))
    assert "Énergie Demo" in html
    assert reverse("agents:e_add", args=[portal.a.cbe, "demo-energy"]) not in html


def test_when_nothing_matches_the_catalog_offers_to_suggest_an_agent(portal, shelf):
    html = page(portal.client("bob").get(e("catalog", portal), {"q": "Proximus"}))
    assert "No agent matches this search." in html
    assert "Suggest an agent" in html
    assert 'name="provider_name"' in html and 'value="Proximus"' in html  # the search, given


def test_a_suggestion_is_recorded_and_confirmed(portal, shelf):
    bob = portal.client("bob")
    response = bob.post(
        e("suggest", portal),
        {"provider_name": "Proximus", "website": "https://www.proximus.be", "comment": "Phone bills"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == e("catalog", portal)
    assert "your suggestion of an agent for Proximus is recorded" in page(response)
    suggestion = AgentSuggestion.objects.get()
    assert (suggestion.provider_name, suggestion.website, suggestion.comment, suggestion.suggested_by) == (
        "Proximus",
        "https://www.proximus.be",
        "Phone bills",
        portal.people["bob"],
    )


def test_a_suggestion_with_errors_shows_them_next_to_their_fields(portal, shelf):
    response = portal.client("bob").post(e("suggest", portal), {"provider_name": "", "website": "ftp://x"})
    assert response.status_code == 400
    html = page(response)
    assert html.index("This field is required.") < html.index('name="provider_name"')
    assert not AgentSuggestion.objects.exists()
    response = portal.client("bob").post(
        e("suggest", portal), {"provider_name": "Luminus", "website": "ftp://x"}
    )
    assert response.status_code == 400
    html = page(response)
    error = html.index("Enter a valid web address (http or https).")
    assert html.index('for="id_provider_name"') < error < html.index('name="website"')


def test_a_suggestion_from_my_documents_returns_to_my_catalog(portal, shelf):
    response = portal.client("ann").post(reverse("agents:my_suggest"), {"provider_name": "Engie"})
    assert response.status_code == 302 and response["Location"] == reverse("agents:my_catalog")
    assert AgentSuggestion.objects.get().suggested_by == portal.people["ann"]


# --- adding an agent -------------------------------------------------------------------------------


def test_the_add_form_asks_for_the_agents_fields_secret_ones_as_passwords(portal, shelf):
    html = page(portal.client("alice").get(e("add", portal, ShelfAgent.id), {"folder": "purchases"}))
    assert 'type="email" name="credentials-login"' in html
    assert 'type="password" name="credentials-password"' in html
    password_input = html[html.index('name="credentials-password"') :].split(">", 1)[0]
    assert 'autocomplete="new-password"' in password_input and "value=" not in password_input
    assert 'inputmode="numeric"' in html  # the contract number
    purchases = html[html.index('value="purchases"') :].split(">", 1)[0]
    assert "checked" in purchases  # the space the person came from
    assert portal.client("alice").get(e("add", portal, "no-such-agent")).status_code == 404


def test_adding_an_agent_queues_its_first_sync_and_leads_to_its_page(
    portal, shelf, django_capture_on_commit_callbacks
):
    alice = portal.client("alice")
    with django_capture_on_commit_callbacks(execute=True):
        response = alice.post(
            e("add", portal, ShelfAgent.id), {**form(), "folder": "purchases", "label": "Shop supplies"}
        )
    connection = Connection.objects.get()
    assert response.status_code == 302 and response["Location"] == e("connection", portal, connection.pk)
    assert (connection.folder, connection.label, connection.status) == (
        "purchases",
        "Shop supplies",
        Status.PENDING,
    )
    assert connection.shown_credentials == {"login": LOGIN}
    assert DBTaskResult.objects.get().args_kwargs["args"] == [connection.pk, "first"]
    html = page(alice.get(response["Location"]))
    assert "Its documents arrive in Purchases." in html
    assert "The agent will fetch the documents in a moment." in html
    assert PASSWORD not in html


def test_the_add_forms_errors_stand_next_to_their_fields(portal, shelf):
    alice = portal.client("alice")
    response = alice.post(
        e("add", portal, ShelfAgent.id),
        {"credentials-login": "someone@example.be", "credentials-password": "", "folder": "elsewhere"},
    )
    assert response.status_code == 400
    html = page(response)
    password = html.index('name="credentials-password"')
    assert html.index('for="id_credentials-password"') < html.index("This field is required.") < password
    assert html.index("Select a valid choice.") < html.index('name="folder"')
    assert 'value="someone@example.be"' in html  # a non-secret value is kept
    # The form's own checks passed: the service's (the e-mail kind) come back next to the field.
    response = alice.post(e("add", portal, ShelfAgent.id), {**form(), "credentials-login": "not an address"})
    assert response.status_code == 400
    html = page(response)
    assert html.index("Enter a valid e-mail address.") < html.index('name="credentials-login"')
    assert PASSWORD not in html  # a secret is never given back
    assert not Connection.objects.exists()


def test_form_errors_come_in_the_persons_language(portal, shelf):
    alice = portal.people["alice"]
    alice.language = "fr"
    alice.save(update_fields=["language"])
    client = portal.client("alice")
    client.cookies["django_language"] = "fr"
    response = client.post(
        e("add", portal, ShelfAgent.id), {"credentials-login": LOGIN, "folder": "documents"}
    )
    assert response.status_code == 400
    assert "Ce champ est obligatoire." in page(response)


def test_a_member_cannot_add_an_agent(portal, shelf):
    response = portal.client("bob").post(e("add", portal, ShelfAgent.id), {**form(), "folder": "documents"})
    assert response.status_code == 403
    assert not Connection.objects.exists()
    assert not AuditRecord.objects.filter(action="agents.connection.added").exists()


def test_a_person_adds_an_agent_to_my_documents(portal, shelf):
    ann = portal.client("ann")
    html = page(ann.get(reverse("agents:my_add", args=[ShelfAgent.id])))
    assert 'name="folder"' not in html  # one space only
    response = ann.post(reverse("agents:my_add", args=[ShelfAgent.id]), form())
    connection = Connection.objects.get()
    assert response["Location"] == reverse("agents:my_connection", args=[connection.pk])
    assert (connection.box, connection.folder) == (personal_box(portal.people["ann"]), "documents")


def test_every_agent_of_the_catalog_has_its_add_form(portal, shelf):
    from coffre.agents import catalog

    alice = portal.client("alice")
    for agent in catalog.all_agents():
        html = page(alice.get(e("add", portal, agent.id)))
        for item in agent.credential_fields:
            assert f'name="credentials-{item.name}"' in html, (agent.id, item.name)


def test_a_secret_key_typed_with_an_error_elsewhere_is_not_sent_back(portal):
    key = "-----BEGIN PRIVATE KEY----- c2VjcmV0 -----END PRIVATE KEY-----"
    response = portal.client("alice").post(
        e("add", portal, "ebox-docconsumer"),
        {
            "folder": "documents",
            "credentials-client_id": "",
            "credentials-enterprise": "",
            "credentials-private_key": key,
        },
    )
    assert response.status_code == 400
    html = page(response)
    assert "c2VjcmV0" not in html and 'name="credentials-private_key"' in html
