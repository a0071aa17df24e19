"""The fake provider portal (coffre.agents.fakeportal): its state, its pages, its place in the demo.

The demo test serves Coffre for real (gunicorn, two workers sharing the portal's JSON file) and
runs the shipped demo-energy agent against /demo-portal/.
"""

import re
from datetime import date
from decimal import Decimal

import httpx
import pytest

from coffre.agents import catalog
from coffre.agents.fakeportal import views
from coffre.agents.fakeportal.app import belgian_amount
from coffre.agents.fakeportal.state import DEMO_ACCOUNTS, DEMO_PASSWORD, PortalState
from coffre.agents.sdk import LoginFailed, UserAction, UserActionNeeded
from coffre.agents.tests.portal_world import portal  # noqa: F401 (fixture)
from coffre.testing.live import GunicornServer


def test_belgian_amounts():
    assert belgian_amount(Decimal("1234.56")) == "1.234,56\u00a0€"
    assert belgian_amount(Decimal("12.5")) == "12,50\u00a0€"
    assert belgian_amount(Decimal(1234567)) == "1.234.567,00\u00a0€"


def test_a_file_backed_state_is_shared_by_every_process_that_opens_it(tmp_path):
    path = tmp_path / "state.json"
    first = PortalState(path)
    first.add_account("zoe", "pw", "ok", bills=2)
    second = PortalState(path)  # another web worker
    assert [bill.id for bill in second.account("zoe").bills] == ["F000001", "F000002"]
    second.add_bill("zoe", issued_on=date(2024, 6, 1))
    assert [bill.id for bill in first.account("zoe").bills][-1] == "F000003"
    assert first.secret == second.secret  # both sign the same sessions


def test_the_demo_state_has_one_account_per_behaviour_and_keeps_changes(tmp_path):
    path = tmp_path / "state.json"
    state = PortalState.demo(path)
    assert {login: state.account(login).mode for login, _, _ in DEMO_ACCOUNTS} == {
        login: mode for login, mode, _ in DEMO_ACCOUNTS
    }
    state.add_bill("demo-ok")
    assert len(PortalState.demo(path).account("demo-ok").bills) == 26  # not seeded again


def test_a_login_with_a_forged_form_token_is_refused(portal):
    with httpx.Client(base_url=portal.url) as client:
        client.get("login")
        answer = client.post("login", data={"csrf_token": "forged", "username": "x", "password": "y"})
    assert answer.status_code == 403
    assert 'class="form-error"' in answer.text


def test_the_bills_need_a_session(portal):
    with httpx.Client(base_url=portal.url) as client:
        answer = client.get("account/bills/F000001.pdf")
    assert answer.status_code == 302 and answer.headers["location"] == "/login"


def test_a_person_publishes_a_new_bill_from_the_bills_page(portal):
    login = "terms@example.test"  # logged in on the terms page first, accepted, then the bills
    with httpx.Client(base_url=portal.url, follow_redirects=True) as client:
        page = client.get("login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        page = client.post("login", data={"csrf_token": token, "username": login,
                                          "password": "Other-S3cret-pw!"})
        assert page.url.path == "/account/terms"
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        page = client.post("account/terms", data={"csrf_token": token})
        assert page.url.path == "/account/bills" and page.text.count('class="bill"') == 3
        token = re.search(r'id="new-bill".*?name="csrf_token" value="([^"]+)"', page.text).group(1)
        page = client.post("account/bills/new", data={"csrf_token": token})
    assert page.text.count('class="bill"') == 4
    assert portal.state.account(login).mode == "ok"


# --- mounted in Coffre for the demo ---


@pytest.fixture
def demo_state_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    views._portal.cache_clear()
    yield tmp_path / "fakeportal"
    views._portal.cache_clear()


@pytest.mark.django_db
def test_the_demo_portal_is_not_served_unless_the_setting_is_on(client, settings, demo_state_dir):
    settings.COFFRE_DEMO_PORTAL = False
    assert client.get("/demo-portal/login").status_code == 404
    assert not demo_state_dir.exists()


@pytest.mark.django_db
def test_the_demo_portal_is_mounted_under_demo_portal(client, settings, demo_state_dir):
    settings.COFFRE_DEMO_PORTAL = True
    home = client.get("/demo-portal/")
    assert home.status_code == 200 and "demo-ok" in home.content.decode()
    page = client.get("/demo-portal/login")
    assert 'action="/demo-portal/login"' in page.content.decode()
    assert page.cookies["fp_form"]["path"] == "/demo-portal/"
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.content.decode()).group(1)
    answer = client.post("/demo-portal/login", {"csrf_token": token, "username": "demo-ok",
                                                "password": DEMO_PASSWORD})
    assert answer.status_code == 303 and answer["Location"] == "/demo-portal/account/bills"
    bills = client.get("/demo-portal/account/bills?page=3").content.decode()
    assert bills.count('class="bill"') == 5 and 'rel="prev"' in bills and 'rel="next"' not in bills
    pdf = client.get("/demo-portal/account/bills/F000001.pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
    assert (demo_state_dir / "state.json").exists()


@pytest.mark.live
def test_the_demo_energy_agent_syncs_from_coffres_demo_portal(transactional_db, settings):
    state_dir = settings.VAR_DIR / "fakeportal"
    for leftover in state_dir.glob("state.*") if state_dir.exists() else ():
        leftover.unlink()
    with GunicornServer(workers=2, threads=2, env={"COFFRE_DEMO_PORTAL": "true"}) as server:
        settings.COFFRE_DEMO_PORTAL_URL = f"{server.url}/demo-portal/"
        agent = catalog.agent("demo-energy")
        with agent.open_session({"login": "demo-ok", "password": DEMO_PASSWORD}) as session:
            documents = list(agent.list_documents(session, ""))
            fetched = agent.download(session, documents[-1])
        assert len(documents) == 25 and documents[-1].remote_id == "F000025"
        assert fetched.files[0].content.startswith(b"%PDF-")

        PortalState.demo(state_dir / "state.json").add_bill("demo-ok")  # as a person would, in the file
        with agent.open_session({"login": "demo-ok", "password": DEMO_PASSWORD}) as session:
            assert [item.remote_id for item in agent.list_documents(session, documents[-1].cursor)] == [
                "F000026"
            ]
        with pytest.raises(LoginFailed):
            with agent.open_session({"login": "demo-ok", "password": "wrong"}):
                pass
        with pytest.raises(UserActionNeeded) as caught:
            with agent.open_session({"login": "demo-2fa", "password": DEMO_PASSWORD}):
                pass
        assert caught.value.action == UserAction.TWO_FACTOR
