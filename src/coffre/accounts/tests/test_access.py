"""Every page of the accounts app tried by every actor: alice (principal access manager of A),
bob (member of A), charlie (member of B), the accountant of A and an anonymous visitor.

Expected: 200 (or 302 after a successful action), 302 to the login page for the visitor, 403 for
a role without the right, 404 for a person without standing in A (its existence is not told).
"""

import pytest

from coffre.accounts import permissions
from coffre.accounts.models import Invitation, Membership, Role
from coffre.accounts.testing import ACTORS

LOGIN = "login"  # 302 to the login page

# (method, path, data, {actor: expected})
ENTERPRISE_PAGES = [
    (
        "get",
        "/accounts/e/{a}/people/",
        None,
        {"alice": 200, "bob": 403, "charlie": 404, "accountant": 403, "anonymous": LOGIN},
    ),
    (
        "post",
        "/accounts/e/{a}/people/invite/",
        {"email": "new@example.be", "role": "member"},
        {"alice": 302, "bob": 403, "charlie": 404, "accountant": 403, "anonymous": LOGIN},
    ),
    (
        "post",
        "/accounts/e/{a}/people/{bob}/role/",
        {"m{bob}-role": "accountant"},
        {"alice": 302, "bob": 403, "charlie": 404, "accountant": 403, "anonymous": LOGIN},
    ),
    (
        "get",
        "/accounts/e/{a}/people/{bob}/remove/",
        None,
        {"alice": 200, "bob": 403, "charlie": 404, "accountant": 403, "anonymous": LOGIN},
    ),
    (
        "post",
        "/accounts/e/{a}/people/{accountant}/remove/",
        {},
        {"alice": 302, "bob": 403, "charlie": 404, "accountant": 403, "anonymous": LOGIN},
    ),
    (
        "post",
        "/accounts/e/{a}/invitations/{invitation}/revoke/",
        {},
        {"alice": 302, "bob": 403, "charlie": 404, "accountant": 403, "anonymous": LOGIN},
    ),
    (
        "get",
        "/accounts/e/{a}/people/hand-over/",
        None,
        {"alice": 200, "bob": 403, "charlie": 404, "accountant": 403, "anonymous": LOGIN},
    ),
    (
        "post",
        "/accounts/e/{a}/people/hand-over/",
        {"successor": "{bob}"},
        {"alice": 302, "bob": 403, "charlie": 404, "accountant": 403, "anonymous": LOGIN},
    ),
    (
        "get",
        "/accounts/e/{a}/leave/",
        None,
        {"alice": 403, "bob": 200, "charlie": 404, "accountant": 200, "anonymous": LOGIN},
    ),
    (
        "post",
        "/accounts/e/{a}/leave/",
        {},
        {"alice": 403, "bob": 302, "charlie": 404, "accountant": 302, "anonymous": LOGIN},
    ),
    (
        "get",
        "/accounts/e/{a}/security/",
        None,
        {"alice": 200, "bob": 403, "charlie": 404, "accountant": 403, "anonymous": LOGIN},
    ),
    (
        "get",
        "/accounts/e/0000000097/people/",
        None,  # no such enterprise
        {"alice": 404, "bob": 404, "charlie": 404, "accountant": 404, "anonymous": LOGIN},
    ),
]

PERSONAL_PAGES = [
    ("get", "/accounts/settings/"),
    ("get", "/accounts/register/"),
    ("get", "/accounts/password/change/"),
    ("get", "/accounts/two-factor/setup/"),
]


def fill(template: str, world) -> str:
    invitation = Invitation.objects.filter(enterprise=world.a).first()
    return template.format(
        a=world.a.cbe,
        bob=Membership.objects.get(user=world.bob, enterprise=world.a).pk,
        accountant=Membership.objects.get(user=world.accountant, enterprise=world.a).pk,
        invitation=invitation.pk if invitation else 0,
    )


@pytest.fixture
def pending_invitation(world):
    from coffre.accounts.services_roles import invite
    from coffre.audit.services import Actor

    return invite(
        world.a, world.alice, "pending@example.be", Role.MEMBER, actor=Actor.cli("test"), base_url=""
    )


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(
    "method, path, data, expected", ENTERPRISE_PAGES, ids=[f"{m} {p}" for m, p, _, _ in ENTERPRISE_PAGES]
)
def test_enterprise_pages(login, world, pending_invitation, actor, method, path, data, expected):
    client = login(actor)
    url = fill(path, world)
    payload = {fill(key, world): fill(value, world) for key, value in (data or {}).items()}
    response = client.post(url, payload) if method == "post" else client.get(url)
    want = expected[actor]
    if want == LOGIN:
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")
    else:
        assert response.status_code == want
        if want == 302:
            assert not response["Location"].startswith("/accounts/login/")
            assert not response["Location"].startswith("/accounts/two-factor/")


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("method, path", PERSONAL_PAGES)
def test_personal_pages(login, world, actor, method, path):
    response = login(actor).get(path)
    if actor == "anonymous":
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")
    else:
        assert response.status_code == 200


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/signup/"])
def test_visitor_pages(login, world, actor, path):
    response = login(actor).get(path)
    assert response.status_code == (200 if actor == "anonymous" else 302)


@pytest.mark.parametrize("actor", ACTORS)
def test_pages_of_a_visitor_with_a_link(login, world, actor):
    client = login(actor)
    for path in ("/accounts/password/reset/", "/accounts/verify/resend/", "/accounts/signup/done/"):
        assert client.get(path).status_code == 200
    assert client.get("/accounts/invitations/accept/").status_code == 404  # no invitation in the session
    assert client.get("/accounts/verify/confirm/").status_code == 400  # no link followed


def test_the_matrix_has_every_action_and_keeps_the_principal_apart():
    assert set(permissions.MATRIX) == set(permissions.Action)
    assert permissions.MATRIX[permissions.Action.MANAGE_CO_PRINCIPALS] == {Role.PRINCIPAL}
    assert Role.PRINCIPAL not in permissions.MATRIX[permissions.Action.LEAVE]
    assert Role.PRINCIPAL not in permissions.ROLE_ACTIONS
    assert permissions.assignable_roles(Role.ACCOUNTANT) == []
    assert permissions.assignable_roles(Role.MEMBER) == []
    assert permissions.assignable_roles(Role.MANAGER) == [Role.MEMBER, Role.ACCOUNTANT]
    assert permissions.assignable_roles(permissions.COLLABORATOR) == []
    assert (
        "| grant and revoke the co-principal access manager role | yes | no |" in permissions.matrix_table()
    )
