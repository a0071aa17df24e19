"""The demo's agents (coffre.demo.agents): ``coffre demo`` leaves the bakery's Purchases with the
bills the demo-energy agent fetched from the fake provider portal, one agent in each kind of
status, says where to see them, and adds nothing the second time."""

import io

from django.core.management import call_command

from coffre.agents.models import Connection, Status
from coffre.demo.management.commands.demo import BAKERY
from coffre.mailbox.models import Message


def demo() -> str:
    out = io.StringIO()
    call_command("demo", stdout=out)
    return out.getvalue()


def test_the_demo_shows_an_agent_with_its_bills_and_one_asking_for_an_action(db, settings):
    settings.COFFRE_BASE_URL = ""
    text = demo()
    connections = {item.shown_credentials["login"]: item for item in Connection.objects.all()}
    assert set(connections) == {"demo-ok", "demo-expired"}
    ok, expired = connections["demo-ok"], connections["demo-expired"]
    assert (ok.status, ok.documents, ok.folder) == (Status.OK, 25, "purchases")
    assert (expired.status, expired.user_action) == (Status.USER_ACTION_NEEDED, "change-password")
    bills = Message.objects.filter(ebox__enterprise__cbe=BAKERY, folder="purchases", origin="agent")
    assert bills.count() == 25
    assert f"http://127.0.0.1:8000/e/{BAKERY}/agents/" in text
    assert "demo-ok: OK, 25 document(s)" in text and "demo-expired: USER_ACTION_NEEDED" in text
    assert settings.COFFRE_DEMO_PORTAL_URL in text

    again = demo()
    assert Connection.objects.count() == 2 and bills.count() == 25
    assert "demo-ok: OK, 25 document(s)" in again
