"""Firm and enterprise pages tried by every named actor: alice (manager of A), bob (member of A),
charlie (member of B), felix (collaborator of Fidu Lebrun, which has A), fanny (its admin), olga
(admin of Other Fidu, which has B), anonymous."""

import pytest
from django.urls import reverse

from coffre.accounts import services_firms
from coffre.accounts.models import Assignment, ClientFile, Collaborator, Favourite
from coffre.accounts.tests.portal_people import (  # noqa: F401
    ACTOR,
    assert_no_inline_code,
    person,
    sign_in,
    world_fixture,
)

LOGIN = reverse("accounts:login")


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


def as_(client, world, name):
    user = world.person(name)
    if user is not None:
        sign_in(client, user)
    return client


def expect(response, status):
    if status == "login":
        assert response.status_code == 302 and response["Location"].startswith(LOGIN), response
    else:
        assert response.status_code == status, (response.status_code, status)


# --- who sees what ------------------------------------------------------------------------------

PAGES = {
    # page: {actor: expected status}
    "portfolio": {
        "alice": 404,
        "bob": 404,
        "charlie": 404,
        "felix": 200,
        "fanny": 200,
        "olga": 200,
        "anonymous": "login",
    },
    "client_file A": {
        "alice": 404,
        "bob": 404,
        "charlie": 404,
        "felix": 200,
        "fanny": 200,
        "olga": 404,
        "anonymous": "login",
    },
    "firm Fidu": {
        "alice": 404,
        "bob": 404,
        "charlie": 404,
        "felix": 200,
        "fanny": 200,
        "olga": 404,
        "anonymous": "login",
    },
    "firms of A": {
        "alice": 200,
        "bob": 403,
        "charlie": 404,
        "felix": 403,
        "fanny": 403,
        "olga": 404,
        "anonymous": "login",
    },
    "client admin of A": {
        "alice": 200,
        "bob": 403,
        "charlie": 404,
        "felix": 403,
        "fanny": 403,
        "olga": 404,
        "anonymous": "login",
    },
    "mailbox of A": {
        "alice": 200,
        "bob": 200,
        "charlie": 404,
        "felix": 200,
        "fanny": 200,
        "olga": 404,
        "anonymous": "login",
    },
}


def page_url(world, page):
    return {
        "portfolio": reverse("accounts:portfolio"),
        "client_file A": reverse("accounts:client_file", args=[world.fidu_a.pk]),
        "firm Fidu": reverse("accounts:firm", args=[world.fidu.pk]),
        "firms of A": reverse("accounts:enterprise_firms", args=[world.a.cbe]),
        "client admin of A": reverse("accounts:client_admin", args=[world.a.cbe]),
        "mailbox of A": reverse("mailbox:list", args=[world.a.cbe]),
    }[page]


@pytest.mark.parametrize(
    "page,name,status", [(page, name, status) for page, row in PAGES.items() for name, status in row.items()]
)
def test_pages(world, client, page, name, status):
    response = as_(client, world, name).get(page_url(world, page))
    expect(response, status)
    if status == 200:
        assert_no_inline_code(response.content.decode())


ACTIONS = {
    # action: {actor: expected status}; 302 = done
    "favourite A": {
        "alice": 404,
        "bob": 404,
        "charlie": 404,
        "felix": 302,
        "fanny": 302,
        "olga": 404,
        "anonymous": "login",
    },
    "attach felix to A": {
        "alice": 404,
        "bob": 404,
        "charlie": 404,
        "felix": 403,
        "fanny": 302,
        "olga": 404,
        "anonymous": "login",
    },
    "add a collaborator to Fidu": {
        "alice": 404,
        "bob": 404,
        "charlie": 404,
        "felix": 403,
        "fanny": 302,
        "olga": 404,
        "anonymous": "login",
    },
    "remove felix from Fidu": {
        "alice": 404,
        "bob": 404,
        "charlie": 404,
        "felix": 403,
        "fanny": 302,
        "olga": 404,
        "anonymous": "login",
    },
    "give Other Fidu access to A": {
        "alice": 302,
        "bob": 403,
        "charlie": 404,
        "felix": 403,
        "fanny": 403,
        "olga": 404,
        "anonymous": "login",
    },
    "revoke Fidu's access to A": {
        "alice": 302,
        "bob": 403,
        "charlie": 404,
        "felix": 403,
        "fanny": 403,
        "olga": 404,
        "anonymous": "login",
    },
    "make bob client admin of A": {
        "alice": 302,
        "bob": 403,
        "charlie": 404,
        "felix": 403,
        "fanny": 403,
        "olga": 404,
        "anonymous": "login",
    },
}


def do(client, world, action):
    if action == "favourite A":
        return client.post(reverse("accounts:favourite", args=[world.fidu_a.pk]))
    if action == "attach felix to A":
        return client.post(
            reverse("accounts:attach", args=[world.fidu_a.pk]), {"collaborator": world.felix_c.pk}
        )
    if action == "add a collaborator to Fidu":
        return client.post(reverse("accounts:firm", args=[world.fidu.pk]), {"email": "dave@example.be"})
    if action == "remove felix from Fidu":
        return client.post(reverse("accounts:remove_collaborator", args=[world.fidu.pk, world.felix_c.pk]))
    if action == "give Other Fidu access to A":
        return client.post(
            reverse("accounts:enterprise_firms", args=[world.a.cbe]), {"firm": "olga@example.be"}
        )
    if action == "revoke Fidu's access to A":
        return client.post(reverse("accounts:enterprise_firm_revoke", args=[world.a.cbe, world.fidu_a.pk]))
    if action == "make bob client admin of A":
        return client.post(
            reverse("accounts:client_admin", args=[world.a.cbe]), {"client_admin": world.bob.pk}
        )
    raise AssertionError(action)


def done(world, action) -> bool:
    return {
        "favourite A": Favourite.objects.exists(),
        "attach felix to A": Assignment.objects.exists(),
        "add a collaborator to Fidu": Collaborator.objects.filter(user=world.dave).exists(),
        "remove felix from Fidu": not Collaborator.objects.filter(user=world.felix).exists(),
        "give Other Fidu access to A": ClientFile.objects.filter(
            firm=world.other_fidu, enterprise=world.a
        ).exists(),
        "revoke Fidu's access to A": not ClientFile.objects.filter(
            firm=world.fidu, enterprise=world.a
        ).exists(),
        "make bob client admin of A": type(world.a).objects.get(pk=world.a.pk).client_admin_id
        == world.bob.pk,
    }[action]


@pytest.mark.parametrize(
    "action,name,status",
    [(action, name, status) for action, row in ACTIONS.items() for name, status in row.items()],
)
def test_actions(world, client, action, name, status):
    response = do(as_(client, world, name), world, action)
    expect(response, status)
    assert done(world, action) is (status == 302)


# --- the portfolio ------------------------------------------------------------------------------


def test_portfolio_lists_clients_with_their_mailbox_and_attached_people(world, client):
    services_firms.attach(world.fidu_a, world.fanny_c, actor=ACTOR)
    page = as_(client, world, "felix").get(reverse("accounts:portfolio")).content.decode()
    assert "Alpha SRL" in page and "Beta BV" not in page and "1 client" in page
    assert reverse("mailbox:list", args=[world.a.cbe]) in page
    assert "Fanny" in page  # attached collaborators are shown
    assert reverse("accounts:firm", args=[world.fidu.pk]) in page


def test_portfolio_of_the_other_firm_does_not_show_a(world, client):
    page = as_(client, world, "olga").get(reverse("accounts:portfolio")).content.decode()
    assert "Beta BV" in page and "Alpha SRL" not in page


def test_portfolio_search_and_filters(world, client):
    as_(client, world, "felix")
    portfolio = reverse("accounts:portfolio")
    row = reverse("accounts:client_file", args=[world.fidu_a.pk])  # A's row (the menu names A too)

    def shows_a(**query):
        return row in client.get(portfolio, query).content.decode()

    assert shows_a(q="alph") and shows_a(q=world.a.cbe[2:8]) and shows_a()
    assert not shows_a(q="zzz")
    assert not shows_a(favourites="1")
    client.post(reverse("accounts:favourite", args=[world.fidu_a.pk]))
    assert shows_a(favourites="1")
    assert not shows_a(mine="1")
    services_firms.attach(world.fidu_a, world.felix_c, actor=ACTOR)
    assert shows_a(mine="1")


def test_favourite_with_htmx_answers_the_button(world, client):
    as_(client, world, "felix")
    url = reverse("accounts:favourite", args=[world.fidu_a.pk])
    response = client.post(url, {"next": "/accounts/portfolio/?q=alpha"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith("<form") and 'aria-pressed="true"' in html and "<html" not in html
    assert 'value="/accounts/portfolio/?q=alpha"' in html
    assert Favourite.objects.filter(collaborator=world.felix_c).exists()
    assert 'aria-pressed="false"' in client.post(url, HTTP_HX_REQUEST="true").content.decode()
    assert not Favourite.objects.exists()


def test_favourite_without_javascript_goes_back_to_the_portfolio(world, client):
    as_(client, world, "felix")
    url = reverse("accounts:favourite", args=[world.fidu_a.pk])
    response = client.post(url, {"next": "/accounts/portfolio/?q=alpha"})
    assert response.status_code == 302 and response["Location"] == "/accounts/portfolio/?q=alpha"
    response = client.post(url, {"next": "https://evil.example/"})
    assert response["Location"] == reverse("accounts:portfolio")
    page = client.get(reverse("accounts:portfolio")).content.decode()
    assert 'aria-pressed="false"' in page and f'hx-post="{url}"' in page and f'action="{url}"' in page


def test_attaching_a_collaborator_of_another_firm_is_refused(world, client):
    response = as_(client, world, "fanny").post(
        reverse("accounts:attach", args=[world.fidu_a.pk]), {"collaborator": world.olga_c.pk}
    )
    assert response.status_code == 400
    assert not Assignment.objects.exists()


def test_only_firm_admins_see_attach_and_detach_controls(world, client):
    services_firms.attach(world.fidu_a, world.felix_c, actor=ACTOR)
    url = reverse("accounts:client_file", args=[world.fidu_a.pk])
    admin_page = as_(client, world, "fanny").get(url).content.decode()
    assert reverse("accounts:detach", args=[world.fidu_a.pk]) in admin_page
    assert reverse("accounts:attach", args=[world.fidu_a.pk]) in admin_page
    client.logout()
    page = as_(client, world, "felix").get(url).content.decode()
    assert "Felix" in page
    assert reverse("accounts:detach", args=[world.fidu_a.pk]) not in page
    assert reverse("accounts:attach", args=[world.fidu_a.pk]) not in page


def test_detach(world, client):
    services_firms.attach(world.fidu_a, world.felix_c, actor=ACTOR)
    response = as_(client, world, "fanny").post(
        reverse("accounts:detach", args=[world.fidu_a.pk]), {"collaborator": world.felix_c.pk}
    )
    assert response.status_code == 302 and not Assignment.objects.exists()


# --- the firm's collaborators -------------------------------------------------------------------


def test_adding_an_unknown_address_says_so_next_to_the_field(world, client):
    response = as_(client, world, "fanny").post(
        reverse("accounts:firm", args=[world.fidu.pk]), {"email": "nobody@example.be"}
    )
    assert response.status_code == 400
    assert "demandez d’abord à la personne de créer un compte" in response.content.decode()  # fanny: French
    assert Collaborator.objects.count() == 3


def test_the_last_admin_cannot_be_removed(world, client):
    response = as_(client, world, "fanny").post(
        reverse("accounts:remove_collaborator", args=[world.fidu.pk, world.fanny_c.pk])
    )
    assert response.status_code == 302
    assert Collaborator.objects.filter(pk=world.fanny_c.pk).exists()
    page = client.get(response["Location"]).content.decode()
    assert "Une fiduciaire garde au moins un administrateur." in page  # fanny reads French


def test_a_collaborator_of_another_firm_cannot_be_removed_through_this_firm(world, client):
    response = as_(client, world, "fanny").post(
        reverse("accounts:remove_collaborator", args=[world.fidu.pk, world.olga_c.pk])
    )
    assert response.status_code == 404
    assert Collaborator.objects.filter(pk=world.olga_c.pk).exists()


# --- an enterprise gives access -----------------------------------------------------------------


def test_give_access_by_firm_number_and_see_it_in_the_list(
    world, client, mailoutbox, django_capture_on_commit_callbacks
):
    as_(client, world, "alice")
    url = reverse("accounts:enterprise_firms", args=[world.a.cbe])
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, {"firm": str(world.other_fidu.pk)}).status_code == 302
    assert [mail.to for mail in mailoutbox] == [["olga@example.be"]]
    page = client.get(url).content.decode()
    assert "Other Fidu" in page and "Fidu Lebrun" in page
    assert ClientFile.objects.get(firm=world.other_fidu, enterprise=world.a).granted_by == world.alice
    client.logout()
    portfolio = as_(client, world, "olga").get(reverse("accounts:portfolio")).content.decode()
    assert "Alpha SRL" in portfolio


@pytest.mark.parametrize("value", ["felix@example.be", "nobody@example.be", "999999", "Fidu Lebrun"])
def test_give_access_to_no_firm_says_so(world, client, value):
    response = as_(client, world, "alice").post(
        reverse("accounts:enterprise_firms", args=[world.a.cbe]), {"firm": value}
    )
    assert response.status_code == 400
    assert "No accounting firm matches" in response.content.decode()


def test_revoking_a_client_file_of_another_enterprise_is_404(world, client):
    response = as_(client, world, "alice").post(
        reverse("accounts:enterprise_firm_revoke", args=[world.a.cbe, world.other_b.pk])
    )
    assert response.status_code == 404
    assert ClientFile.objects.filter(pk=world.other_b.pk).exists()


def test_revoked_firm_loses_the_mailbox(world, client):
    as_(client, world, "alice").post(
        reverse("accounts:enterprise_firm_revoke", args=[world.a.cbe, world.fidu_a.pk])
    )
    client.logout()
    assert as_(client, world, "felix").get(reverse("mailbox:list", args=[world.a.cbe])).status_code == 404


# --- the client admin ---------------------------------------------------------------------------


def test_client_admin_page_shows_the_principal_by_default(world, client):
    page = (
        as_(client, world, "alice").get(reverse("accounts:client_admin", args=[world.a.cbe])).content.decode()
    )
    assert "paula@example.be" in page
    assert "charlie@example.be" not in page  # not a person of A
    assert '<label for="id_client_admin"' in page


def test_client_admin_must_be_a_person_of_the_enterprise(world, client):
    response = as_(client, world, "alice").post(
        reverse("accounts:client_admin", args=[world.a.cbe]), {"client_admin": world.charlie.pk}
    )
    assert response.status_code == 400
    world.a.refresh_from_db()
    assert world.a.client_admin is None


def test_client_admin_back_to_default(world, client):
    services_firms.set_client_admin(world.a, world.bob, actor=ACTOR)
    response = as_(client, world, "alice").post(
        reverse("accounts:client_admin", args=[world.a.cbe]), {"client_admin": ""}
    )
    assert response.status_code == 302
    world.a.refresh_from_db()
    assert world.a.client_admin is None


def test_the_tests_sign_people_in_with_a_verified_second_factor(world, client):
    # Access managers must use two-factor authentication: the sessions of these tests are verified,
    # so that the pages answer as they do for a manager who signed in properly.
    response = as_(client, world, "alice").get(reverse("accounts:enterprise_firms", args=[world.a.cbe]))
    assert response.wsgi_request.user.is_verified()
