"""The operators' page of the agents (coffre.agents.views_operator): for staff only; the agents with
their connections and maintenance (turned on and off), the open support reports (marked as dealt
with) and the suggestions."""

import pytest
from django.test import Client

from coffre.accounts.models import User
from coffre.agents import engine, services
from coffre.agents.models import AgentMaintenance, SupportReport
from coffre.agents.sdk import UnknownAgentError
from coffre.agents.tests.conftest import add, web
from coffre.agents.tests.fakes import PASSWORD
from coffre.agents.tests.test_views import page
from coffre.audit.models import AuditRecord

PAGE = "/operator/agents/"


@pytest.fixture
def operator(db) -> Client:
    admin = User.objects.create_superuser("admin@coffre.example", "Correct-horse-battery-42", language="en")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(admin)
    return client


def test_the_page_is_for_the_operators_only(operator, portal, shelf):
    assert operator.get(PAGE).status_code == 200
    for name in ("alice", "bob", "charlie"):
        assert portal.client(name).get(PAGE).status_code == 404
        assert portal.client(name).post(f"{PAGE}maintenance/demo-energy/", {"on": "1"}).status_code == 404
    anonymous = Client().get(PAGE)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/admin/login/?next=")
    assert not AgentMaintenance.objects.exists()


def test_the_page_lists_agents_reports_and_suggestions(operator, portal, shelf):
    shelf.login_error = UnknownAgentError(f"a page it did not know, with {PASSWORD}")
    connection = add(portal)
    engine.sync(connection.pk)
    services.report_to_support(portal.people["bob"], connection.pk, actor=web("bob"))
    services.suggest_agent(
        portal.people["bob"], "Proximus", website="https://www.proximus.be", actor=web("bob")
    )
    html = page(operator.get(PAGE))
    assert "Énergie Demo" in html and "Shelf test agent" in html
    assert "Unexpected error: 1" in html  # the shelf agent's connections by status
    assert "Proximus" in html and "https://www.proximus.be" in html
    assert "Open support reports" in html and "UnknownAgentError" in html
    assert PASSWORD not in html


def test_an_operator_turns_an_agents_maintenance_on_and_off(operator, portal, shelf):
    connection = add(portal)
    response = operator.post(
        f"{PAGE}maintenance/test-shelf/", {"on": "1", "reason": "Portal changed"}, follow=True
    )
    html = page(response)
    assert "Shelf test agent is in maintenance" in html
    assert "In maintenance" in html and "Portal changed" in html
    assert AgentMaintenance.objects.get().reason == "Portal changed"
    assert "This agent is being repaired" in page(
        portal.client("alice").get(f"/e/{portal.a.cbe}/agents/{connection.pk}/")
    )
    response = operator.post(f"{PAGE}maintenance/test-shelf/", {"on": "0"}, follow=True)
    assert "The maintenance of Shelf test agent is over" in page(response)
    assert not AgentMaintenance.objects.exists()
    assert list(
        AuditRecord.objects.filter(action__startswith="agents.maintenance").values_list("action", flat=True)
    ) == ["agents.maintenance.on", "agents.maintenance.off"]
    assert operator.post(f"{PAGE}maintenance/no-such-agent/", {"on": "1"}).status_code == 404


def test_an_operator_marks_a_report_as_dealt_with(operator, portal, shelf):
    shelf.login_error = UnknownAgentError("a page it did not know")
    connection = add(portal)
    engine.sync(connection.pk)
    report = services.report_to_support(portal.people["alice"], connection.pk, actor=web("alice"))
    html = page(operator.post(f"{PAGE}reports/{report.pk}/resolve/", follow=True))
    assert f"The support report {report.pk} is marked as dealt with." in html
    assert "No open support report." in html
    assert SupportReport.objects.get().resolved_at is not None
    again = page(operator.post(f"{PAGE}reports/{report.pk}/resolve/", follow=True))
    assert "This report was already dealt with." in again
