"""People's and operators' changes to agents (coffre.agents.services) and who may make them
(coffre.agents.selectors): alice (access manager of A), bob (member of A), ann (accountant of A),
carl (collaborator of a firm with A in its portfolio), charlie (member of B)."""

import datetime as dt
from functools import partial

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import translation
from django_tasks_db.models import DBTaskResult

from coffre.accounts.permissions import Action
from coffre.agents import engine, selectors, services
from coffre.agents.credentials import CredentialsInvalid
from coffre.agents.models import AgentSuggestion, Connection, Status, SupportReport, SyncRun
from coffre.agents.sdk import UnknownAgentError
from coffre.agents.tests.conftest import add, credentials, run_enqueued, web
from coffre.audit.models import AuditRecord
from coffre.mailbox.models import Message
from coffre.mailbox.services_spaces import personal_box

OUTCOMES = {  # what each person gets for an agent of A: allowed, 403 or 404
    Action.VIEW_AGENTS: {"alice": "ok", "bob": "ok", "ann": 403, "carl": 403, "charlie": 404},
    Action.SYNC_AGENTS: {"alice": "ok", "bob": "ok", "ann": 403, "carl": 403, "charlie": 404},
    Action.MANAGE_AGENTS: {"alice": "ok", "bob": 403, "ann": 403, "carl": 403, "charlie": 404},
}


def outcome(call) -> object:
    try:
        call()
    except Http404:
        return 404
    except PermissionDenied:
        return 403
    return "ok"


# --- adding ---------------------------------------------------------------------------------------


def test_adding_an_agent_seals_its_credentials_and_queues_its_first_sync_at_once(
    portal, shelf, clock, django_capture_on_commit_callbacks
):
    shelf.add(2)
    with django_capture_on_commit_callbacks(execute=True):
        connection = add(portal, label="Office electricity")
    assert (connection.status, connection.next_run_at, connection.added_by) == (
        Status.PENDING,
        clock.now(),
        portal.people["alice"],
    )
    assert connection.shown_credentials == {"login": "shelf-user@example.be"}  # never the password
    (task,) = DBTaskResult.objects.all()
    assert task.task_path == "coffre.agents.tasks.sync_connection"
    assert task.args_kwargs["args"] == [connection.pk, "first"]
    assert run_enqueued() == [Status.OK]
    assert Message.objects.filter(ebox=portal.ebox_a).count() == 2
    assert SyncRun.objects.get().trigger == "first"
    record = AuditRecord.objects.get(action="agents.connection.added")
    assert record.details["agent"] == "test-shelf" and record.details["label"] == "Office electricity"


def test_credentials_are_checked_against_the_agents_fields(portal, shelf):
    alice = portal.people["alice"]
    cases = [
        ({"login": "not an address", "password": "x"}, {"login"}),
        ({"login": "a@example.be"}, {"password"}),
        ({"login": "a@example.be", "password": "x", "contract": "12a"}, {"contract"}),
        ({"login": "a@example.be", "password": "x", "pin": "1234"}, {""}),
        ({"login": "a@example.be", "password": "two\nlines"}, {"password"}),
    ]
    for values, fields in cases:
        with pytest.raises(CredentialsInvalid) as refused:
            services.add_connection(
                alice, portal.ebox_a, "documents", "test-shelf", values, actor=web("alice")
            )
        assert set(refused.value.errors) == fields
        assert "x" not in str(refused.value) and "1234" not in str(refused.value)
    assert not Connection.objects.exists()


def test_an_unknown_agent_or_space_is_refused(portal, shelf):
    alice = portal.people["alice"]
    with pytest.raises(services.AgentServiceError):
        services.add_connection(
            alice, portal.ebox_a, "documents", "no-such-agent", credentials(), actor=web("a")
        )
    with pytest.raises(services.AgentServiceError):
        add(portal, box=personal_box(alice), folder="purchases")  # My documents has one space


def test_who_may_add_an_agent_to_a_space(portal, shelf):
    got = {
        name: outcome(lambda name=name: add(portal, name))
        for name in ("alice", "bob", "ann", "carl", "charlie")
    }
    assert got == OUTCOMES[Action.MANAGE_AGENTS]
    bob_box = personal_box(portal.people["bob"])
    assert outcome(lambda: add(portal, "alice", box=bob_box)) == 404  # another person's My documents
    assert outcome(lambda: add(portal, "bob", box=bob_box)) == "ok"


# --- tenant isolation: every action on a connection --------------------------------------------------


def attempts(portal, connection) -> dict:
    """Each service on ``connection`` as a callable per person, with the action that guards it."""

    def as_(name):
        return portal.people[name], web(name)

    return {
        Action.VIEW_AGENTS: lambda name: selectors.runs_of(as_(name)[0], connection.pk),
        Action.SYNC_AGENTS: lambda name: services.sync_now(*as_(name)[:1], connection.pk, actor=as_(name)[1]),
        Action.MANAGE_AGENTS: lambda name: services.replace_credentials(
            as_(name)[0], connection.pk, credentials(), actor=as_(name)[1]
        ),
    }


def test_each_person_may_do_on_an_enterprises_agent_what_the_matrix_says(portal, shelf, clock):
    connection = add(portal)
    for action, attempt in attempts(portal, connection).items():
        for name, expected in OUTCOMES[action].items():
            Connection.objects.filter(pk=connection.pk).update(last_sync_now_at=None)
            assert outcome(partial(attempt, name)) == expected, (action, name)
    for name, expected in OUTCOMES[Action.VIEW_AGENTS].items():
        listing = partial(selectors.connections_of_space, portal.people[name], portal.ebox_a, "documents")
        assert outcome(listing) == expected


def test_a_member_of_another_enterprise_can_neither_see_nor_touch_an_agent(portal, shelf):
    connection = add(portal)
    charlie = portal.people["charlie"]
    for call in (
        lambda: selectors.connection_for(charlie, connection.pk, Action.VIEW_AGENTS),
        lambda: services.sync_now(charlie, connection.pk, actor=web("charlie")),
        lambda: services.report_to_support(charlie, connection.pk, actor=web("charlie")),
        lambda: services.user_action_done(charlie, connection.pk, actor=web("charlie")),
        lambda: services.remove_connection(charlie, connection.pk, actor=web("charlie")),
    ):
        assert outcome(call) == 404
    assert Connection.objects.get(pk=connection.pk).last_sync_now_at is None


def test_an_agent_of_my_documents_is_its_owners_alone(portal, shelf):
    connection = add(portal, "bob", box=personal_box(portal.people["bob"]))
    for name in ("alice", "ann", "carl", "charlie"):
        for attempt in attempts(portal, connection).values():
            assert outcome(partial(attempt, name)) == 404
    for attempt in attempts(portal, connection).values():
        assert outcome(partial(attempt, "bob")) == "ok"
    services.remove_connection(portal.people["bob"], connection.pk, actor=web("bob"))


# --- the person's actions ---------------------------------------------------------------------------


def test_sync_now_is_limited_per_connection(
    portal, shelf, clock, settings, django_capture_on_commit_callbacks
):
    settings.COFFRE_AGENTS_SYNC_NOW_INTERVAL = 15 * 60
    connection = add(portal)
    engine.sync(connection.pk)
    bob = portal.people["bob"]
    with django_capture_on_commit_callbacks(execute=True):
        services.sync_now(bob, connection.pk, actor=web("bob"))
    assert DBTaskResult.objects.filter(args_kwargs__args=[connection.pk, "sync-now"]).count() == 1
    assert Connection.objects.get(pk=connection.pk).next_run_at == clock.now()
    clock.shift(dt.timedelta(minutes=10))
    with pytest.raises(services.SyncNowTooSoon) as refused:
        services.sync_now(bob, connection.pk, actor=web("bob"))
    assert "5 minutes" in refused.value.message
    assert refused.value.retry_at == clock.now() + dt.timedelta(minutes=5)
    clock.shift(dt.timedelta(minutes=5))
    services.sync_now(bob, connection.pk, actor=web("bob"))
    assert AuditRecord.objects.filter(action="agents.connection.sync_now").count() == 2


def test_sync_now_is_refused_while_the_agent_waits_for_the_person_or_is_repaired(portal, shelf):
    with translation.override("en"):  # the refusals are read in English here (the catalogs translate them)
        connection = add(portal, password="wrong")
        engine.sync(connection.pk)
        alice = portal.people["alice"]
        with pytest.raises(services.AgentServiceError, match="current credentials"):
            services.sync_now(alice, connection.pk, actor=web("alice"))
        with pytest.raises(services.AgentServiceError):
            services.user_action_done(alice, connection.pk, actor=web("alice"))  # it waits for credentials
        services.replace_credentials(alice, connection.pk, credentials(), actor=web("alice"))
        services.set_maintenance("test-shelf", True, actor=web("operator"))
        with pytest.raises(services.AgentServiceError, match="being repaired"):
            services.sync_now(alice, connection.pk, actor=web("alice"))


def test_removing_an_agent_keeps_the_documents_it_brought(portal, shelf):
    shelf.add(2)
    connection = add(portal)
    engine.sync(connection.pk)
    services.remove_connection(portal.people["alice"], connection.pk, actor=web("alice"))
    assert not Connection.objects.exists() and not SyncRun.objects.exists()
    assert Message.objects.filter(ebox=portal.ebox_a).count() == 2
    assert AuditRecord.objects.get(action="agents.connection.removed").details["documents"] == 2


def test_a_report_to_support_holds_the_technical_details_once_per_run(portal, shelf):
    shelf.login_error = UnknownAgentError("the bills page changed")
    connection = add(portal)
    bob = portal.people["bob"]
    with pytest.raises(services.AgentServiceError):
        services.report_to_support(bob, connection.pk, actor=web("bob"))  # nothing wrong yet
    engine.sync(connection.pk)
    report = services.report_to_support(bob, connection.pk, actor=web("bob"))
    assert services.report_to_support(bob, connection.pk, actor=web("bob")) == report
    assert (report.status, report.agent_id, report.reported_by) == (Status.UNKNOWN_ERROR, "test-shelf", bob)
    assert report.run == SyncRun.objects.get()
    assert "UnknownAgentError: the bills page changed" in report.details["errorDetail"]
    assert report.details["run"]["status"] == Status.UNKNOWN_ERROR
    assert selectors.open_support_reports() == [report]
    services.remove_connection(portal.people["alice"], connection.pk, actor=web("alice"))
    assert SupportReport.objects.get().connection is None  # the report stays for the operators


def test_maintenance_is_an_operators_audited_switch(portal, shelf):
    assert services.set_maintenance("test-shelf", True, actor=web("operator"), reason="new portal")
    assert not services.set_maintenance("test-shelf", True, actor=web("operator"))
    assert services.set_maintenance("test-shelf", False, actor=web("operator"))
    assert [r.action for r in AuditRecord.objects.filter(action__startswith="agents.maintenance")] == [
        "agents.maintenance.on",
        "agents.maintenance.off",
    ]
    with pytest.raises(services.AgentServiceError):
        services.set_maintenance("no-such-agent", True, actor=web("operator"))


def test_a_suggestion_is_recorded_for_the_operators(portal):
    charlie = portal.people["charlie"]
    suggestion = services.suggest_agent(
        charlie, " Proximus ", website="https://www.proximus.be", comment="Mobile bills", actor=web("charlie")
    )
    assert (suggestion.provider_name, suggestion.suggested_by) == ("Proximus", charlie)
    assert selectors.suggestions() == [suggestion]
    for name, website, field in (("", "", "provider_name"), ("Luminus", "ftp://luminus.be", "website")):
        with pytest.raises(services.AgentServiceError) as refused:
            services.suggest_agent(charlie, name, website=website, actor=web("charlie"))
        assert refused.value.field == field
    assert AgentSuggestion.objects.count() == 1


def test_suggestions_are_limited_per_person_and_day(portal, clock):
    bob = portal.people["bob"]
    for n in range(services.SUGGESTIONS_PER_DAY):
        services.suggest_agent(bob, f"Provider {n}", actor=web("bob"))
    with pytest.raises(services.AgentServiceError):
        services.suggest_agent(bob, "One too many", actor=web("bob"))
    clock.shift(dt.timedelta(days=1))
    services.suggest_agent(bob, "The next day", actor=web("bob"))
