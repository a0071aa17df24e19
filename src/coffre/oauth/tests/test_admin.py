"""The admin shows webservice clients read-only, and never tokens."""

import pytest
from django.contrib.auth import get_user_model

from coffre.audit.services import token_hash
from coffre.oauth.testing import issue_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client):
    user = get_user_model().objects.create_superuser("operator@example.be", "a long passphrase")
    client.force_login(user)
    return client


def test_clients_are_listed_and_shown_read_only(operator, client, make_client):
    alice = make_client(name="Compta SA")
    token = issue_token(client, alice)

    listing = operator.get("/admin/oauth/webserviceclient/")
    assert listing.status_code == 200
    assert alice.client_id in listing.content.decode()

    page = operator.get(f"/admin/oauth/webserviceclient/{alice.client.pk}/change/")
    text = page.content.decode()
    assert page.status_code == 200
    assert alice.client_id in text and "CN=coffre test client" in text
    assert 'name="_save"' not in text  # nothing to save: read only
    assert token not in text and token_hash(token) not in text

    assert operator.get("/admin/oauth/webserviceclient/add/").status_code == 403
    assert operator.post(f"/admin/oauth/webserviceclient/{alice.client.pk}/delete/").status_code == 403


def test_tokens_and_assertions_have_no_admin_page(operator):
    assert operator.get("/admin/oauth/accesstoken/").status_code == 404
    assert operator.get("/admin/oauth/usedassertion/").status_code == 404
