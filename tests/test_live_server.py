"""The ``gunicorn_server`` fixture: the production server, in a subprocess, on the test database."""

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request

import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.live


def opener() -> urllib.request.OpenerDirector:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    return urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect
    )


def log_in(base_url: str, username: str, password: str) -> tuple[int, str]:
    browser = opener()
    with browser.open(f"{base_url}/admin/login/") as page:
        form = page.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    data = urllib.parse.urlencode(
        {
            "csrfmiddlewaretoken": token,
            "username": username,
            "password": password,
            "next": "/admin/",
        }
    ).encode()
    request = urllib.request.Request(
        f"{base_url}/admin/login/", data=data, headers={"Referer": f"{base_url}/admin/login/"}
    )
    try:
        with browser.open(request) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as redirect:
        return redirect.code, redirect.headers.get("Location", "")


def test_the_server_serves_the_admin_login_page(gunicorn_server):
    with urllib.request.urlopen(f"{gunicorn_server}/admin/login/") as page:
        assert page.status == 200
        assert page.headers["Server"].startswith("gunicorn")
        assert 'name="username"' in page.read().decode()


def test_the_server_sees_what_the_test_wrote(gunicorn_server):
    get_user_model().objects.create_superuser("alice@a.example", "correct horse battery")

    status, location = log_in(gunicorn_server, "alice@a.example", "correct horse battery")
    assert (status, location) == (302, "/admin/")

    status, page = log_in(gunicorn_server, "alice@a.example", "wrong password")
    assert status == 200
    assert "errornote" in page  # the form again, with its error
