"""``coffre agents``: the catalog, maintenance, support reports, suggestions, a sync by hand."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from coffre.agents import engine, selectors, services
from coffre.agents.models import Connection, Status, SupportReport
from coffre.agents.sdk import UnknownAgentError
from coffre.agents.tests.conftest import add, web
from coffre.agents.tests.fakes import PASSWORD
from coffre.audit.models import AuditRecord


def run(*args) -> str:
    out = io.StringIO()
    call_command("agents", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_the_catalog_with_each_agents_connections(portal, shelf):
    add(portal)
    (row,) = [item for item in json.loads(run("list", "--json")) if item["id"] == "test-shelf"]
    assert (row["connections"], row["maintenance"], row["max_concurrent"]) == (1, False, 2)


def test_maintenance_on_and_off(portal, shelf):
    connection = add(portal)
    assert "maintenance on" in run("maintenance", "test-shelf", "on", "--reason", "portal redesign")
    assert selectors.shown_status(connection) == Status.MAINTENANCE
    assert "already" in run("maintenance", "test-shelf", "on")
    assert json.loads(run("maintenance", "test-shelf", "off", "--json"))["changed"] is True
    with pytest.raises(CommandError):
        run("maintenance", "no-such-agent", "on")


def test_support_reports_are_listed_without_credentials_and_resolved(portal, shelf):
    shelf.login_error = UnknownAgentError("no bills table")
    connection = add(portal)
    engine.sync(connection.pk)
    report = services.report_to_support(portal.people["bob"], connection.pk, actor=web("bob"))
    text = run("reports")
    assert "no bills table" in text and PASSWORD not in text + run("reports", "--json")
    assert "resolved" in run("resolve", str(report.pk))
    assert (
        SupportReport.objects.get().resolved_at is not None
        and run("reports").strip() == "no open support report"
    )
    with pytest.raises(CommandError):
        run("resolve", str(report.pk))


def test_suggestions_are_listed(portal):
    services.suggest_agent(
        portal.people["bob"], "Proximus", website="https://www.proximus.be", actor=web("bob")
    )
    assert "Proximus" in run("suggestions")


def test_a_sync_by_hand(portal, shelf, clock):
    shelf.add(2)
    connection = add(portal)
    engine.sync(connection.pk)
    shelf.add(1)
    assert "OK, 1 listed, 1 new" in run("sync", str(connection.pk))  # not due yet: made due, audited
    assert AuditRecord.objects.filter(action="agents.connection.run_now").count() == 1
    Connection.objects.filter(pk=connection.pk).update(next_run_at=None, status=Status.LOGIN_FAILED)
    assert "busy" in run("sync", str(connection.pk))  # it waits for the person: not even by hand
    with pytest.raises(CommandError):
        run("sync", "99999")
