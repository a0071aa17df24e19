"""Requests refused before any view runs (NUL characters in URLs and forms), and error answers of
the machine interfaces that are StatusMessage JSON whoever produced them."""

import pytest
from django.test import Client

ROOT = "/REST/ebox/enterprise/messageRegistry/v2/"


@pytest.mark.parametrize(
    "url",
    [
        ROOT + "ebox/messages/%00",
        ROOT + "ebox/messages?messageTypeId=%00",
        ROOT + "ebox/messages?%00=1",
        "/.well-known/oauth-authorization-server?x=a%00b",
    ],
)
def test_a_nul_character_in_the_url_is_refused(db, url):
    response = Client().get(url)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "INVALID_INPUT" and "NUL" in body["message"]


def test_a_nul_character_in_a_url_encoded_form_is_refused(db):
    response = Client().post(
        "/oauth2/token",
        "grant_type=client_credentials&client_id=a%00b",
        content_type="application/x-www-form-urlencoded",
        secure=True,
    )
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_INPUT"


def test_other_requests_pass(db):
    assert Client().get("/.well-known/oauth-authorization-server?x=%01").status_code == 200
    # Without a NUL, the token endpoint itself answers (here: no client authentication).
    response = Client().post(
        "/oauth2/token",
        "grant_type=client_credentials",
        content_type="application/x-www-form-urlencoded",
        secure=True,
    )
    assert response.status_code in (400, 401)
    assert "error" in response.json()


@pytest.mark.parametrize(
    "method, url, allowed",
    [
        ("delete", ROOT + "ebox", "GET"),
        ("get", ROOT + "publishMessage", "POST"),
        ("put", ROOT + "ebox/messages", "GET, PATCH"),
        ("get", "/oauth2/token", "POST"),
    ],
)
def test_an_unsupported_method_is_a_status_message(db, method, url, allowed):
    response = getattr(Client(), method)(url, secure=True)
    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) >= {"id", "code", "message"} and body["code"] == "METHOD_NOT_ALLOWED"
    assert sorted(response["Allow"].split(", ")) == sorted(allowed.split(", "))


def test_an_oversized_form_is_a_status_message(db, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = Client().post(
        "/oauth2/token",
        "grant_type=client_credentials&x=" + "a" * 200,
        content_type="application/x-www-form-urlencoded",
        secure=True,
    )
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_INPUT"


def test_pages_for_people_keep_their_html(db):
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
