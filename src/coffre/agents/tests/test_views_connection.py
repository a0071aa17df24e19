"""One connection's page and actions (coffre.agents.views_connection): the status in words with the
action it calls for, the credentials (replaced, never shown), "I have done it", "Sync now" and its
limit, "Report to support", removing, the history's pages; tried by alice (access manager of A),
bob (member of A), ann (accountant of A), carl (collaborator of a firm with A in its portfolio),
charlie (member of B) and a visitor."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import formats, timezone
from django_tasks_db.models import DBTaskResult

from coffre.agents import credentials, engine, services
from coffre.agents.models import Connection, Status, SupportReport, SyncRun
from coffre.agents.sdk import UnknownAgentError, UserAction, UserActionNeeded
from coffre.agents.tests.conftest import add, web
from coffre.agents.tests.fakes import LOGIN, PASSWORD
from coffre.agents.tests.test_views import MANAGE, PEOPLE, SEE, answer, page
from coffre.mailbox.models import Message
from coffre.mailbox.services_spaces import personal_box

NEW_PASSWORD = "n3w-Shelf-pass!"


def e(name: str, connection: Connection) -> str:
    return reverse(f"agents:e_{name}", args=[connection.box.enterprise.cbe, connection.pk])


@pytest.fixture
def synced(portal, shelf) -> Connection:
    """alice's connection to A's Documents, synced once: 3 documents, OK."""
    shelf.add(3)
    connection = add(portal, label="Office supplies")
    engine.sync(connection.pk)
    return Connection.objects.select_related("box__enterprise").get(pk=connection.pk)


def failing(portal, shelf, error) -> Connection:
    shelf.login_error = error
    connection = add(portal, label="Failing")
    engine.sync(connection.pk)
    return Connection.objects.select_related("box__enterprise").get(pk=connection.pk)


# --- who may do what -------------------------------------------------------------------------------


@pytest.mark.parametrize("name, wanted", [("connection", SEE), ("credentials", MANAGE), ("remove", MANAGE)])
def test_each_person_gets_what_the_matrix_says(portal, synced, name, wanted):
    got = {person: answer(portal.client(person).get(e(name, synced))) for person in PEOPLE}
    assert got == wanted


@pytest.mark.parametrize(
    "name, wanted",
    [
        ("sync", {**SEE, "alice": 302, "bob": 302}),
        ("remove", {**MANAGE, "alice": 302}),
        ("credentials", {**MANAGE, "alice": 400}),  # an empty form: the form again
        ("done", {**MANAGE, "alice": 302}),  # not waiting: told so, on the connection's page
        ("report", {**SEE, "alice": 302, "bob": 302}),  # nothing to report: told so
    ],
)
def test_each_person_may_act_as_the_matrix_says(portal, synced, name, wanted):
    got = {}
    for person in PEOPLE:
        got[person] = answer(portal.client(person).post(e(name, synced)))
    assert got == wanted


# --- the status and its action ---------------------------------------------------------------------


def test_an_agent_that_works_shows_its_syncs_and_offers_sync_now(portal, synced):
    html = page(portal.client("bob").get(e("connection", synced)))
    assert "The agent fetches the new documents at its usual frequency." in html
    assert 'class="badge ok">OK<' in html  # words, not colour alone
    assert "every 3 days" in html
    assert "Sync now" in html and "Replace the credentials" not in html  # bob is a member
    assert "Remove this agent" not in html
    next_run = timezone.localtime(synced.next_run_at)
    assert formats.date_format(next_run, "SHORT_DATETIME_FORMAT") in html
    history = html[html.index("History of the synchronisations") :]
    assert "<td>First synchronisation</td>" in history and "<td>3</td>" in history
    assert LOGIN in html and PASSWORD not in html  # the login is shown, the password never
    assert "Hidden: it can only be replaced." in html


def test_login_failed_asks_for_the_current_credentials_and_never_offers_a_sync(portal, shelf):
    connection = add(portal, label="Old", password="no longer valid")
    engine.sync(connection.pk)
    alice = page(portal.client("alice").get(e("connection", connection)))
    assert "The provider refused the login: the credentials are no longer valid." in alice
    assert "Waits for you (never retried by itself)" in alice
    assert f'href="{e("connection", connection)}credentials/">Replace the credentials' in alice
    assert "Sync now" not in alice
    bob = page(portal.client("bob").get(e("connection", connection)))
    assert "An access manager of the enterprise can enter the current credentials." in bob


def test_replacing_the_credentials_shows_the_login_never_the_password_and_tries_them(
    portal, shelf, django_capture_on_commit_callbacks
):
    connection = add(portal, password="no longer valid")
    engine.sync(connection.pk)
    alice = portal.client("alice")
    html = page(alice.get(e("credentials", connection)))
    assert f'value="{LOGIN}"' in html
    password_input = html[html.index('name="credentials-password"') :].split(">", 1)[0]
    assert "value=" not in password_input and 'type="password"' in html
    with django_capture_on_commit_callbacks(execute=True):
        response = alice.post(
            e("credentials", connection),
            {"credentials-login": LOGIN, "credentials-password": PASSWORD},
            follow=True,
        )
    assert "The new credentials are saved: the agent tries them now." in page(response)
    connection.refresh_from_db()
    assert connection.status == Status.PENDING
    assert credentials.unseal(connection.credentials_sealed)["password"] == PASSWORD
    assert DBTaskResult.objects.filter(task_path="coffre.agents.tasks.sync_connection").count() == 1


def test_replacing_the_credentials_with_errors_shows_them_next_to_the_fields(portal, synced):
    response = portal.client("alice").post(
        e("credentials", synced), {"credentials-login": "nobody", "credentials-password": NEW_PASSWORD}
    )
    assert response.status_code == 400
    html = page(response)
    assert html.index("Enter a valid e-mail address.") < html.index('name="credentials-login"')
    assert NEW_PASSWORD not in html
    assert credentials.unseal(Connection.objects.get().credentials_sealed)["password"] == PASSWORD


def test_an_action_on_the_providers_site_is_confirmed_with_i_have_done_it(
    portal, shelf, django_capture_on_commit_callbacks
):
    connection = failing(portal, shelf, UserActionNeeded(UserAction.ACCEPT_TERMS))
    alice = portal.client("alice")
    html = page(alice.get(e("connection", connection)))
    assert "Sign in on the provider&#x27;s site and accept its new terms of use." in html
    assert "I have done it" in html and "Sync now" not in html
    assert "An access manager of the enterprise can tell the agent once it is done." in page(
        portal.client("bob").get(e("connection", connection))
    )
    shelf.login_error = None
    with django_capture_on_commit_callbacks(execute=True):
        response = alice.post(e("done", connection), follow=True)
    assert "Thank you: the agent tries again now." in page(response)
    assert Connection.objects.get().status == Status.PENDING
    (task,) = DBTaskResult.objects.all()
    assert task.args_kwargs["args"] == [connection.pk, "person"]


def test_i_have_done_it_when_nothing_waits_says_so(portal, synced):
    response = portal.client("alice").post(e("done", synced), follow=True)
    assert "This agent is not waiting for an action of yours." in page(response)
    assert Connection.objects.get().status == Status.OK


def test_sync_now_is_limited_and_says_when_it_is_allowed_again(
    portal, clock, synced, django_capture_on_commit_callbacks
):
    bob = portal.client("bob")
    with django_capture_on_commit_callbacks(execute=True):
        first = bob.post(e("sync", synced), follow=True)
    assert first.redirect_chain[-1][0] == e("connection", synced)
    assert "The synchronisation starts now." in page(first)
    assert DBTaskResult.objects.get().args_kwargs["args"] == [synced.pk, "sync-now"]
    clock.shift(dt.timedelta(minutes=5))
    again = page(bob.post(e("sync", synced), follow=True))
    allowed_at = timezone.localtime(clock.now() + dt.timedelta(minutes=10))
    assert "ask again in 10 minutes." in again
    assert f"It is allowed again from {formats.time_format(allowed_at, 'TIME_FORMAT')}." in again
    assert DBTaskResult.objects.count() == 1  # nothing more asked of the provider


def test_an_unexpected_error_is_reported_to_support_without_the_credentials(portal, shelf):
    connection = failing(portal, shelf, UnknownAgentError(f"the page changed for {PASSWORD}"))
    bob = portal.client("bob")
    html = page(bob.get(e("connection", connection)))
    assert "The agent met an unexpected error." in html
    assert "Report to support" in html
    response = bob.post(e("report", connection), follow=True)
    report = SupportReport.objects.get()
    html = page(response)
    assert f"Your report is recorded (number {report.pk})." in html
    assert "never your credentials" in html
    assert "This error was reported to support on" in html and "Report to support</button>" not in html
    assert (report.connection, report.reported_by, report.status) == (
        connection,
        portal.people["bob"],
        Status.UNKNOWN_ERROR,
    )
    assert PASSWORD not in str(report.details) and LOGIN not in str(report.details)
    bob.post(e("report", connection))
    assert SupportReport.objects.count() == 1  # the same run is one report


def test_an_agent_in_maintenance_says_so_and_offers_no_sync(portal, synced):
    services.set_maintenance(synced.agent_id, True, actor=web("operator"))
    html = page(portal.client("alice").get(e("connection", synced)))
    assert "This agent is being repaired. It starts again by itself once it is fixed." in html
    assert "Once the agent is repaired" in html
    assert "Sync now" not in html


# --- removing --------------------------------------------------------------------------------------


def test_removing_asks_first_and_keeps_the_documents(portal, synced):
    alice = portal.client("alice")
    html = page(alice.get(e("remove", synced)))
    assert "The 3 documents it brought stay in Documents." in html
    assert Connection.objects.exists()
    response = alice.post(e("remove", synced), follow=True)
    assert response.redirect_chain[-1][0] == reverse("agents:e_agents", args=[portal.a.cbe])
    assert "The agent is removed. The documents it brought stay in their space." in page(response)
    assert not Connection.objects.exists()
    assert Message.objects.filter(ebox=portal.ebox_a).count() == 3


def test_a_person_removes_an_agent_of_my_documents(portal, shelf):
    connection = add(portal, "bob", box=personal_box(portal.people["bob"]))
    bob = portal.client("bob")
    response = bob.post(reverse("agents:my_remove", args=[connection.pk]))
    assert response["Location"] == reverse("agents:my_agents")
    assert not Connection.objects.exists()


# --- the history and the status region ---------------------------------------------------------------


def test_the_history_comes_newest_first_in_pages(portal, clock, synced):
    base = clock.now()
    SyncRun.objects.bulk_create(
        SyncRun(
            connection=synced, started_at=base + dt.timedelta(hours=n), ended_at=base, found=n, status="OK"
        )
        for n in range(1, 26)
    )
    bob = portal.client("bob")
    first = page(bob.get(e("connection", synced)))
    history = first[first.index('id="history"') :]
    assert history.count('<th scope="row">') == 20
    assert history.index("<td>25</td>") < history.index("<td>24</td>")  # newest first
    older = history[history.index('rel="next"') - 200 :].split('href="', 1)[1].split('"', 1)[0]
    second = page(bob.get(older.replace("&amp;", "&")))
    rest = second[second.index('id="history"') :]
    assert rest.count('<th scope="row">') == 6  # 5 more, and the first sync
    assert "<td>5</td>" in rest and "<td>6</td>" not in rest
    assert 'rel="next"' not in rest and "Newest" in rest


def test_the_status_region_refreshes_itself_while_a_sync_is_on_its_way(portal, shelf):
    connection = add(portal)
    bob = portal.client("bob")
    headers = {"HX-Request": "true", "HX-Target": "connection-status"}
    pending = bob.get(e("connection", connection), headers=headers)
    html = page(pending)
    assert html.startswith('<section id="connection-status"') and "<html" not in html
    assert 'hx-trigger="every 3s"' in html
    assert "HX-Request" in pending["Vary"]
    engine.sync(connection.pk)
    done = page(bob.get(e("connection", connection), headers=headers))
    assert "hx-trigger" not in done and "The agent fetches the new documents" in done
