"""The operators' page of the agents (``/operator/agents/``): every agent of the catalog with its
connections by status and its maintenance (turned on and off here: ``services.set_maintenance``),
the open support reports (marked as dealt with here) and the suggestions of new agents.

For the operators only (Django staff, like ``/operator/outbox/``: ``outbox.views.operator_only``):
a visitor is sent to the operator sign-in, anyone else gets 404. A support report's details are
credential-free by construction (``services.support_details``); nothing here reads credentials.
"""

import json

from django.contrib import messages as flash
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from coffre.agents import catalog, presentation, selectors, services
from coffre.agents.forms import MaintenanceForm
from coffre.agents.models import Status
from coffre.mailbox.views import web_actor
from coffre.outbox.views import operator_only


@require_GET
@operator_only
def operator_agents(request):
    maintenances = selectors.maintenances()
    counts = selectors.connection_counts()
    agents = [
        {
            "agent": agent,
            "category": presentation.category_label(agent.category),
            "frequency": presentation.frequency_words(agent.frequency),
            "maintenance": maintenances.get(agent.id),
            "counts": [
                (Status(status).label, count) for status, count in sorted(counts.get(agent.id, {}).items())
            ],
            "total": sum(counts.get(agent.id, {}).values()),
        }
        for agent in catalog.all_agents()
    ]
    reports = [
        {
            "report": report,
            "details": json.dumps(report.details, indent=2, ensure_ascii=False, sort_keys=True),
        }
        for report in selectors.open_support_reports()
    ]
    return render(
        request,
        "agents/operator.html",
        {
            "agents": agents,
            "reports": reports,
            "suggestions": selectors.suggestions(),
            "form": MaintenanceForm(),
        },
    )


@require_POST
@operator_only
def operator_maintenance(request, agent_id: str):
    """Turn an agent's maintenance on (``on=1``, with a reason) or off."""
    try:
        agent = catalog.agent(agent_id)
    except catalog.UnknownAgent:
        raise Http404("no such agent") from None
    on = request.POST.get("on") == "1"
    form = MaintenanceForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    changed = services.set_maintenance(agent.id, on, reason=reason, actor=web_actor(request))
    if on:
        text = _("%(agent)s is in maintenance: none of its connections runs until you end it.")
    else:
        text = _("The maintenance of %(agent)s is over: its connections run again at their times.")
    if changed:
        flash.success(request, text % {"agent": agent.name})
    else:
        flash.info(request, _("Nothing changed."))
    return redirect("agents_operator:agents")


@require_POST
@operator_only
def operator_resolve(request, report_id: int):
    if services.resolve_support_report(report_id, actor=web_actor(request)):
        flash.success(
            request, _("The support report %(number)d is marked as dealt with.") % {"number": report_id}
        )
    else:
        flash.info(request, _("This report was already dealt with."))
    return redirect("agents_operator:agents")
